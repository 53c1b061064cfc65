// Python-compatible text for summary() and the printed module tree: '{:,}' thousands separators,
// '%0.2f' (round half to even on the exact binary value, where JavaScript's toFixed rounds ties
// up), and repr() of a float and of a tuple of ints.

export function withCommas(n: number): string {
  const s = Math.abs(n).toString();
  return (n < 0 ? '-' : '') + s.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

export function pyFixed(x: number, digits: number): string {
  const exact = Math.abs(x).toFixed(Math.min(100, digits + 40));
  const [intPart = '0', frac = ''] = exact.split('.');
  const kept = frac.slice(0, digits);
  const rest = frac.slice(digits);
  const isTie = /^50*$/.test(rest);
  let rounded = BigInt(intPart + kept);
  const next = rest.charAt(0);
  if (next > '5' || (next === '5' && !isTie) || (isTie && rounded % 2n === 1n)) rounded += 1n;
  const str = rounded.toString().padStart(digits + 1, '0');
  const out = digits > 0 ? `${str.slice(0, -digits)}.${str.slice(-digits)}` : str;
  return (x < 0 && /[1-9]/.test(out) ? '-' : '') + out;
}

/**
 * Python's repr() of a float: the shortest digits that round-trip (as JavaScript's), written
 * positionally for exponents -4..15 with at least one decimal ('2.0'), else as '1e-05' / '1.5e+16'.
 */
export function pyFloat(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x < 0 ? '-inf' : 'inf';
  const [mantissa = '0', expText = '0'] = x.toExponential().split('e');
  const exp = Number(expText);
  if (exp < -4 || exp >= 16) return `${mantissa}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  const text = Object.is(x, -0) ? '-0' : String(x); // positional in JavaScript too for these exponents
  return Number.isInteger(x) ? `${text}.0` : text;
}

/** Python's repr() of a tuple of ints: (3, 3). */
export function pyTuple(xs: readonly number[]): string {
  return xs.length === 1 ? `(${xs[0]},)` : `(${xs.join(', ')})`;
}

export function rjust(s: string, width: number): string {
  return s.length >= width ? s : ' '.repeat(width - s.length) + s;
}
