/**
 * Draws a Vega-Lite spec (built by the server with Altair) with vega-embed, which is bundled
 * with the extension and loaded on first use (nothing comes from a CDN).
 */
import * as React from 'react';

import type { VegaLiteSpec } from '../api';

export interface IVegaChartProps {
  spec: VegaLiteSpec;
  /** JupyterLab's theme is light (dark uses vega's dark theme). */
  isLight: boolean;
  /** Accessible name of the chart. */
  label: string;
  /** Width to fit, in pixels (default: the container's). */
  width?: number;
  /** Python that rebuilds the chart in a notebook cell (shows "Copy code"). */
  code?: string;
  /** File name stem for exports (`learning-curves` -> learning-curves.vl.json). */
  name?: string;
}

/** Save text as a file (the Vega-Lite spec). */
function saveText(text: string, filename: string, type: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/**
 * Export buttons under a chart: the Vega-Lite spec as a file and the Python (Altair) code
 * that rebuilds it; PNG and SVG come from vega-embed's own menu (drawn offline).
 */
function ChartExports(props: {
  spec: VegaLiteSpec;
  code?: string;
  name: string;
  label: string;
}): JSX.Element {
  const [copied, setCopied] = React.useState(false);
  return (
    <div className="jp-Track-chart-exports">
      <button
        className="jp-Track-link"
        title="Download the Vega-Lite specification (data included)"
        aria-label={`Download the Vega-Lite spec of ${props.label}`}
        onClick={() =>
          saveText(
            JSON.stringify(props.spec, null, 1),
            `${props.name}.vl.json`,
            'application/json'
          )
        }
      >
        Spec
      </button>
      {props.code ? (
        <button
          className="jp-Track-link"
          title="Copy Python code that draws this chart in a notebook cell (Altair)"
          aria-label={`Copy Python code of ${props.label}`}
          onClick={() => {
            void navigator.clipboard
              ?.writeText(props.code ?? '')
              .then(() => setCopied(true))
              .catch(() => setCopied(false));
          }}
        >
          {copied ? 'Copied' : 'Copy code'}
        </button>
      ) : null}
    </div>
  );
}

interface IEmbedResult {
  finalize(): void;
}

type EmbedFn = (
  el: HTMLElement,
  spec: VegaLiteSpec,
  options: Record<string, unknown>
) => Promise<IEmbedResult>;

let embedModule: Promise<EmbedFn> | null = null;

/** vega-embed, loaded once (a separate chunk of the extension's bundle). */
export function loadEmbed(): Promise<EmbedFn> {
  if (!embedModule) {
    embedModule = import('vega-embed').then(
      module => module.default as unknown as EmbedFn
    );
  }
  return embedModule;
}

/** The element's width, rounded to 16 px steps (0 while hidden). */
function useWidth(node: React.RefObject<HTMLElement>): number {
  const [width, setWidth] = React.useState(0);
  React.useEffect(() => {
    const el = node.current;
    if (!el) {
      return;
    }
    const measure = (): void => setWidth(Math.floor(el.clientWidth / 16) * 16);
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(el);
    return () => observer.disconnect();
  }, []);
  return width;
}

/**
 * A legend under a narrow chart: one column at the default sidebar width (run names with their
 * id are long), two above; labels get the column's width, so none is cut off mid-word early.
 */
export function narrowLegend(available: number): Record<string, unknown> {
  const columns = available < 320 ? 1 : 2;
  return {
    orient: 'bottom',
    columns,
    labelLimit: Math.max(60, Math.floor((available - 40) / columns) - 24)
  };
}

export function VegaChart(props: IVegaChartProps): JSX.Element {
  const outer = React.useRef<HTMLDivElement>(null);
  const node = React.useRef<HTMLDivElement>(null);
  const [error, setError] = React.useState<string | null>(null);
  const measured = useWidth(outer);
  const available = props.width ?? measured;

  React.useEffect(() => {
    let result: IEmbedResult | null = null;
    let cancelled = false;
    const el = node.current;
    // Hidden (e.g. another tab is shown): draw once there is room, at the right size.
    if (!el || available <= 0) {
      return;
    }
    const spec: VegaLiteSpec = { ...props.spec };
    // Fit the panel's width, legend and axes included (single views only: a layered or
    // concatenated spec keeps its own sizes).
    const inner = spec.spec as VegaLiteSpec | undefined;
    if (spec.facet && inner) {
      // a faceted chart (the run page's small multiples): each panel takes the width
      spec.spec = { ...inner, width: Math.max(160, available - 90) };
    } else if (spec.width === undefined || spec.width === 'container') {
      spec.width = Math.max(200, available - 8);
      spec.autosize = { type: 'fit', contains: 'padding' };
    }
    const config = {
      ...((spec.config as Record<string, unknown> | undefined) ?? {}),
      background: 'transparent',
      // narrow (the default sidebar): legends go under the plot, which keeps the width
      legend: {
        ...(((spec.config as Record<string, unknown> | undefined)?.legend as
          Record<string, unknown> | undefined) ?? {}),
        ...(available < 420 ? narrowLegend(available) : {})
      },
      // the SVG is hidden from screen readers: the figure around it carries the name
      aria: false
    };
    spec.config = config;
    loadEmbed()
      .then(embed =>
        embed(el, spec, {
          // PNG/SVG export in vega-embed's menu; no editor links (they point off-site)
          actions: {
            export: true,
            source: false,
            compiled: false,
            editor: false
          },
          renderer: 'svg',
          theme: props.isLight ? undefined : 'dark',
          tooltip: { theme: props.isLight ? 'light' : 'dark' }
        })
      )
      .then(r => {
        // hidden from screen readers: the figure around it carries the chart's name
        el.querySelector('svg.marks')?.setAttribute('aria-hidden', 'true');
        if (cancelled) {
          r.finalize();
        } else {
          result = r;
          setError(null);
        }
      })
      .catch(reason => {
        if (!cancelled) {
          setError(String(reason));
        }
      });
    return () => {
      cancelled = true;
      result?.finalize();
    };
  }, [props.spec, props.isLight, available]);

  return (
    <div
      className="jp-Track-chart"
      aria-label={props.label}
      role="figure"
      ref={outer}
    >
      <div ref={node} />
      {error ? <div className="jp-Track-error">{error}</div> : null}
      <ChartExports
        spec={props.spec}
        code={props.code}
        name={props.name ?? 'chart'}
        label={props.label}
      />
    </div>
  );
}
