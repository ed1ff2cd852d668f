/** The benchmarks' one percentile: the q-quantile (0..1) of `xs`, nearest rank from below. */
export function quantile(xs: readonly number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
}
