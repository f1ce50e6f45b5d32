/**
 * A tiny inline line of a metric's history (a glyph in a table cell, not a chart: the charts
 * are Vega-Lite specs from the server).
 */
import * as React from 'react';

export interface ISparklineProps {
  values: readonly (number | null)[];
  width?: number;
  height?: number;
}

export function sparklinePoints(
  values: readonly (number | null)[],
  width: number,
  height: number
): string {
  const finite = values.filter(
    (v): v is number => v !== null && Number.isFinite(v)
  );
  if (finite.length < 2) {
    return '';
  }
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of finite) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  const span = hi - lo || 1;
  const n = values.length;
  const points: string[] = [];
  values.forEach((v, i) => {
    if (v === null || !Number.isFinite(v)) {
      return;
    }
    const x = n === 1 ? width / 2 : (i / (n - 1)) * (width - 2) + 1;
    const y = height - 1 - ((v - lo) / span) * (height - 2);
    points.push(`${x.toFixed(1)},${y.toFixed(1)}`);
  });
  return points.join(' ');
}

export function Sparkline(props: ISparklineProps): JSX.Element | null {
  const width = props.width ?? 80;
  const height = props.height ?? 18;
  const points = sparklinePoints(props.values, width, height);
  if (!points) {
    return null;
  }
  return (
    <svg
      className="jp-Track-sparkline"
      width={width}
      height={height}
      viewBox={`0 0 ${width} ${height}`}
      role="img"
      aria-label="Metric history"
    >
      <polyline points={points} fill="none" strokeWidth={1.2} />
    </svg>
  );
}
