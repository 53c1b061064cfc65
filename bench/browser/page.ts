// The browser benchmark's page script: runs each peer in turn (never two at once) with the config
// the Node runner passes to window.runBench, and returns their results.
import { runOrt } from './ort_peer.js';
import { runOurs } from './ours_peer.js';
import type { BenchConfig, PeerResult } from './protocol.js';
import { runTfjs } from './tfjs_peer.js';

declare global {
  interface Window {
    runBench(cfg: BenchConfig, peers: string[]): Promise<PeerResult[]>;
  }
}

window.runBench = async (cfg, peers) => {
  if (!crossOriginIsolated) throw new Error('the page is not cross-origin isolated (COOP/COEP headers missing): no threads');
  const results: PeerResult[] = [];
  for (const peer of peers) {
    if (peer === 'ours') results.push(await runOurs(cfg, new URL('/lib/alexnet.js', location.origin).href));
    if (peer === 'ort') results.push(await runOrt(cfg, '/assets/alexnet.onnx'));
    if (peer === 'tfjs') results.push(await runTfjs(cfg, '/assets/weights.bin', '/assets/weights.json'));
  }
  return results;
};
