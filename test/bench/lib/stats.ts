// Latency distributions: nearest-rank percentiles over the samples that arrived.

export interface Distribution {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  min: number;
  mean: number;
}

export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1];
}

/** Distribution of the finite samples (NaN marks "never arrived" and is left out). */
export function distribution(samples: ArrayLike<number>): Distribution {
  const values = Float64Array.from(Array.from(samples).filter((v) => Number.isFinite(v))).sort();
  let sum = 0;
  for (const v of values) sum += v;
  return {
    count: values.length,
    min: values.length ? values[0] : NaN,
    p50: percentile(values, 50),
    p90: percentile(values, 90),
    p99: percentile(values, 99),
    max: values.length ? values[values.length - 1] : NaN,
    mean: values.length ? sum / values.length : NaN,
  };
}

/** Rounds every number of a distribution to 0.1 ms for the JSON. */
export function rounded(d: Distribution): Distribution {
  const r = (v: number) => (Number.isFinite(v) ? Math.round(v * 10) / 10 : v);
  return {
    count: d.count,
    min: r(d.min),
    p50: r(d.p50),
    p90: r(d.p90),
    p99: r(d.p99),
    max: r(d.max),
    mean: r(d.mean),
  };
}
