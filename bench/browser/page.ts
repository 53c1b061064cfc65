// The browser benchmark's page script: runs each peer in turn (never two at once) with the config
// the Node runner passes to window.runBench, and returns their results; window.runAlternate times
// ours and ORT Web at batch 1 alternately in one run; window.runProfile times ours kernel by kernel.
import { runAlternating } from './alternate.js';
import { runOrt } from './ort_peer.js';
import { profileOurs, runOurs } from './ours_peer.js';
import type { AlternateResult, BenchConfig, PeerResult, ProfileResult } from './protocol.js';
import { runTfjs } from './tfjs_peer.js';

declare global {
  interface Window {
    runBench(cfg: BenchConfig, peers: string[]): Promise<PeerResult[]>;
    runAlternate(cfg: BenchConfig): Promise<AlternateResult>;
    runProfile(cfg: BenchConfig): Promise<ProfileResult>;
  }
}

const LIB_URL = () => new URL('/lib/alexnet.js', location.origin).href;
const ONNX_URL = '/assets/alexnet.onnx';

function checkIsolated(): void {
  if (!crossOriginIsolated) throw new Error('the page is not cross-origin isolated (COOP/COEP headers missing): no threads');
}

window.runAlternate = async (cfg) => {
  checkIsolated();
  return runAlternating(cfg, LIB_URL(), ONNX_URL);
};

window.runProfile = async (cfg) => {
  checkIsolated();
  return profileOurs(cfg, LIB_URL());
};

window.runBench = async (cfg, peers) => {
  checkIsolated();
  const results: PeerResult[] = [];
  for (const peer of peers) {
    if (peer === 'ours') results.push(await runOurs(cfg, LIB_URL()));
    if (peer === 'ort') results.push(await runOrt(cfg, ONNX_URL));
    if (peer === 'tfjs') results.push(await runTfjs(cfg, '/assets/weights.bin', '/assets/weights.json'));
  }
  return results;
};
