/**
 * The canonical text of a double as verify computes it in SQL (`floatCanonical`), computed
 * independently here: x = mantissa · 2^(exponent − 52), `<sign><mantissa>p<exponent>`.
 */
export function floatText(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  if (x === 0) return '0';
  const a = Math.abs(x);
  let e = Math.floor(Math.log2(a));
  if (a / 2 ** e >= 2) e++;
  if (a / 2 ** e < 1) e--;
  return `${x < 0 ? '-' : ''}${BigInt(a / 2 ** e * 2 ** 52)}p${e}`;
}
