/**
 * One copy of vega, vega-lite and vega-embed per page, shared by every chart widget.
 *
 * The vega bundle is about a megabyte. anywidget syncs a widget's ES module as part of its
 * state, so bundling vega into every chart widget would store it again in the notebook for every
 * chart. Instead one hidden "runtime" widget per kernel carries it (`runtime.ts`); its
 * `initialize` publishes the functions below on a page-wide slot, and chart widgets hold the
 * runtime's model id in their `_vega` trait: asking the widget manager for that model makes sure
 * it exists (and so loads its module) before we wait on the slot.
 */

import type embedFunction from 'vega-embed';
import type { Result, VisualizationSpec } from 'vega-embed';
import type { changeset as changesetFunction } from 'vega';
import type { AnyModel } from './types';

export type { Result, VisualizationSpec };

export interface VegaRuntime {
  embed: typeof embedFunction;
  changeset: typeof changesetFunction;
  versions: Record<string, string>;
}

interface Slot {
  promise: Promise<VegaRuntime>;
  resolve: (runtime: VegaRuntime) => void;
}

const SLOT = '__jupyterTrackVegaRuntime1';

function slot(): Slot {
  const scope = globalThis as unknown as Record<string, Slot | undefined>;
  let found = scope[SLOT];
  if (!found) {
    let resolve: (runtime: VegaRuntime) => void = () => undefined;
    const promise = new Promise<VegaRuntime>(done => {
      resolve = done;
    });
    found = { promise, resolve };
    scope[SLOT] = found;
  }
  return found;
}

/** Called by the runtime widget once its module is loaded. */
export function provideRuntime(runtime: VegaRuntime): void {
  slot().resolve(runtime);
}

const TIMEOUT_MS = 30000;

/** The shared vega runtime; rejects with a readable message when it never arrives. */
export async function loadRuntime(
  model: AnyModel<{ _vega: string }>
): Promise<VegaRuntime> {
  const id = model.get('_vega');
  if (id) {
    try {
      await model.widget_manager.get_model(id);
    } catch {
      // the slot may still be filled by another chart's runtime on this page
    }
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new Error(
            'the chart library (the jupyter-track vega runtime widget) did not load; ' +
              're-run the cell with a live kernel'
          )
        ),
      TIMEOUT_MS
    );
  });
  try {
    return await Promise.race([slot().promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Colours that follow the JupyterLab theme (light or dark) when its CSS variables exist. */
function themeConfig(el: HTMLElement): Record<string, unknown> {
  const style = getComputedStyle(el);
  const read = (name: string): string | undefined =>
    style.getPropertyValue(name).trim() || undefined;
  const fg = read('--jp-ui-font-color1');
  const muted = read('--jp-ui-font-color2') ?? fg;
  const grid = read('--jp-border-color2');
  const font = read('--jp-ui-font-family');
  const config: Record<string, unknown> = { background: 'transparent' };
  if (fg) {
    config.axis = {
      labelColor: muted,
      titleColor: fg,
      gridColor: grid,
      domainColor: grid,
      tickColor: grid
    };
    config.legend = { labelColor: muted, titleColor: fg };
    config.title = { color: fg };
    config.text = { color: fg };
  }
  if (font) {
    config.font = font;
  }
  return config;
}

/** Draw a Vega-Lite spec into `el` (replacing what was there). */
export async function draw(
  runtime: VegaRuntime,
  el: HTMLElement,
  spec: VisualizationSpec
): Promise<Result> {
  el.replaceChildren();
  return runtime.embed(el, spec, {
    mode: 'vega-lite',
    renderer: 'canvas',
    actions: { export: true, source: false, compiled: false, editor: false },
    config: themeConfig(el),
    downloadFileName: 'jupyter-track-chart'
  });
}
