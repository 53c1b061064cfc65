// Python-compatible number formatting for summary(): '{:,}' thousands separators and '%0.2f'
// (round half to even on the exact binary value, where JavaScript's toFixed rounds ties up).

export function withCommas(n: number): string {
  const s = Math.abs(n).toString();
  return (n < 0 ? '-' : '') + s.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

export function pyFixed(x: number, digits: number): string {
  const exact = Math.abs(x).toFixed(Math.min(100, digits + 40));
  const [intPart, frac] = exact.split('.');
  const kept = frac.slice(0, digits);
  const rest = frac.slice(digits);
  const isTie = /^50*$/.test(rest);
  let rounded = BigInt(intPart + kept);
  if (rest[0] > '5' || (rest[0] === '5' && !isTie) || (isTie && rounded % 2n === 1n)) rounded += 1n;
  const str = rounded.toString().padStart(digits + 1, '0');
  const out = digits > 0 ? `${str.slice(0, -digits)}.${str.slice(-digits)}` : str;
  return (x < 0 && /[1-9]/.test(out) ? '-' : '') + out;
}

/** Python's str() of a list of ints: [-1, 64, 55, 55]. */
export function pyList(xs: readonly number[]): string {
  return `[${xs.join(', ')}]`;
}

export function rjust(s: string, width: number): string {
  return s.length >= width ? s : ' '.repeat(width - s.length) + s;
}
