/**
 * jt.compare(): the side-by-side table and the shared charts (learning curves, parallel
 * coordinates, correlation ranking, param-vs-metric scatter). The specs come from the kernel
 * (jupyter_track.charts); changing the metric or the scatter's param asks the kernel for new ones.
 */

import { formatDuration, formatTime, formatValue } from '../src/format';
import { h, showError } from './lib/dom';
import type { AnyModel, Cleanup, WidgetModule } from './lib/types';
import {
  draw,
  loadRuntime,
  type Result,
  type VisualizationSpec
} from './lib/vega';

interface RunInfo {
  run_id: string;
  label: string;
  status: string;
}

interface TableRow {
  section: 'run' | 'params' | 'metrics' | 'tags' | 'environment' | 'data';
  key: string;
  values: unknown[];
  differs: boolean;
}

interface CompareTraits {
  runs: RunInfo[];
  table: TableRow[];
  metric: string;
  metrics: string[];
  param: string;
  params: string[];
  specs: Record<string, Record<string, unknown>>;
  notes: Record<string, string>;
  warnings: string[];
  _vega: string;
}

const PANELS: { key: string; title: string }[] = [
  { key: 'curves', title: 'Learning curves' },
  { key: 'parallel', title: 'Parallel coordinates' },
  { key: 'importance', title: 'Correlation with the metric' },
  { key: 'scatter', title: 'Param vs metric' }
];

/** The kernel's CPU/memory/GPU metrics (`payloads.SYSTEM_METRIC_PREFIX`). */
const SYSTEM_PREFIX = 'system/';

function select(
  options: string[],
  value: string,
  label: string,
  onChange: (value: string) => void
): HTMLLabelElement {
  const node = h('select', { attrs: { 'aria-label': label } });
  const option = (key: string, text = key): HTMLOptionElement => {
    const item = h('option', {}, text);
    item.value = key;
    return item;
  };
  // The kernel's system/ metrics last, in a group of their own (as in the sidebar).
  const system = options.filter(o => o.startsWith(SYSTEM_PREFIX));
  node.append(
    ...options.filter(o => !o.startsWith(SYSTEM_PREFIX)).map(o => option(o))
  );
  if (system.length) {
    const group = h('optgroup');
    group.label = 'System (kernel process)';
    group.append(...system.map(o => option(o, o.slice(SYSTEM_PREFIX.length))));
    node.append(group);
  }
  node.value = value;
  node.addEventListener('change', () => onChange(node.value));
  return h('label', {}, `${label} `, node);
}

function cell(row: TableRow, value: unknown): string {
  if (row.key === 'duration_ms') {
    return formatDuration(value as number | null);
  }
  if (row.key === 'start_time') {
    return formatTime(value as number | null);
  }
  if (row.section === 'data' && typeof value === 'string') {
    return value.slice(0, 12); // a SHA-256 digest: its first 12 hex digits tell them apart
  }
  return formatValue(value);
}

function drawTable(
  model: AnyModel<CompareTraits>,
  onlyDiffs: boolean
): HTMLElement {
  const runs = model.get('runs');
  const head = h(
    'tr',
    {},
    h('th', {}, ''),
    ...runs.map(run =>
      h(
        'th',
        {
          className: 'jp-Track-w-dot',
          title: run.run_id,
          attrs: { 'data-status': run.status }
        },
        run.label
      )
    )
  );
  const body = h('tbody');
  let section = '';
  for (const row of model.get('table')) {
    if (onlyDiffs && !row.differs && row.section !== 'run') {
      continue;
    }
    if (row.section !== section) {
      section = row.section;
      body.append(
        h(
          'tr',
          { className: 'jp-Track-w-section' },
          h('td', { attrs: { colspan: String(runs.length + 1) } }, section)
        )
      );
    }
    const label =
      row.section === 'run'
        ? row.key.replace('_ms', '').replace('_', ' ')
        : row.key;
    body.append(
      h(
        'tr',
        {
          className: row.differs ? 'jp-Track-w-differs' : '',
          title: row.differs ? 'differs between runs' : ''
        },
        h('td', {}, label),
        ...row.values.map(value =>
          h(
            'td',
            { className: row.section === 'metrics' ? 'jp-Track-w-num' : '' },
            cell(row, value)
          )
        )
      )
    );
  }
  const warnings = (model.get('warnings') ?? []).map(text =>
    h('div', { className: 'jp-Track-w-warning', attrs: { role: 'note' } }, text)
  );
  return h(
    'div',
    { className: 'jp-Track-w-tablewrap' },
    ...warnings,
    h('table', {}, h('thead', {}, head), body)
  );
}

const compare: WidgetModule<CompareTraits> = {
  async render({ model, el }): Promise<Cleanup> {
    el.classList.add('jp-Track-w', 'jp-Track-compare');
    let onlyDiffs = false;
    let closed = false;
    const results = new Map<string, Result>();

    const toolbar = h('div', { className: 'jp-Track-w-toolbar' });
    const tableBox = h('div');
    const grid = h('div', { className: 'jp-Track-w-grid' });
    el.replaceChildren(toolbar, tableBox, grid);

    const charts = new Map<
      string,
      {
        panel: HTMLElement;
        chart: HTMLElement;
        note: HTMLElement;
        head: HTMLElement;
      }
    >();
    for (const { key, title } of PANELS) {
      const chart = h('div', {
        className: 'jp-Track-w-chart',
        attrs: { 'data-chart': key }
      });
      const note = h('div', { className: 'jp-Track-w-note' });
      const head = h('h4', {}, title);
      const panel = h(
        'div',
        { className: 'jp-Track-w-panel' },
        head,
        chart,
        note
      );
      charts.set(key, { panel, chart, note, head });
      grid.append(panel);
    }

    const drawToolbar = (): void => {
      const diffs = h('input', { attrs: { type: 'checkbox' } });
      diffs.checked = onlyDiffs;
      diffs.addEventListener('change', () => {
        onlyDiffs = diffs.checked;
        tableBox.replaceChildren(drawTable(model, onlyDiffs));
      });
      toolbar.replaceChildren(
        select(model.get('metrics'), model.get('metric'), 'Metric', value => {
          model.set('metric', value);
          model.save_changes();
        }),
        h('label', {}, diffs, 'only rows that differ'),
        h(
          'span',
          { className: 'jp-Track-w-muted' },
          `${model.get('runs').length} runs`
        )
      );
      const scatter = charts.get('scatter');
      if (scatter) {
        const picker = model.get('params').length
          ? select(model.get('params'), model.get('param'), 'Param', value => {
              model.set('param', value);
              model.save_changes();
            })
          : null;
        scatter.head.replaceChildren(
          'Param vs metric',
          ...(picker ? [picker] : [])
        );
      }
    };

    const drawCharts = async (): Promise<void> => {
      const specs = model.get('specs');
      const notes = model.get('notes');
      let runtime;
      try {
        runtime = await loadRuntime(model);
      } catch (error) {
        for (const { chart } of charts.values()) {
          showError(chart, (error as Error).message);
        }
        return;
      }
      for (const { key } of PANELS) {
        const slot = charts.get(key);
        if (!slot) {
          continue;
        }
        results.get(key)?.finalize();
        results.delete(key);
        slot.note.textContent = notes[key] ?? '';
        const spec = specs[key];
        if (!spec) {
          slot.chart.replaceChildren(
            h('div', { className: 'jp-Track-w-muted' }, 'nothing to draw')
          );
          continue;
        }
        try {
          const result = await draw(
            runtime,
            slot.chart,
            spec as VisualizationSpec
          );
          if (closed) {
            result.finalize();
            return;
          }
          results.set(key, result);
        } catch (error) {
          showError(
            slot.chart,
            `Cannot draw the chart: ${(error as Error).message}`
          );
        }
      }
      el.dataset.drawn = String(results.size);
    };

    const onTable = (): void => {
      tableBox.replaceChildren(drawTable(model, onlyDiffs));
    };
    const onSpecs = (): void => {
      drawToolbar();
      void drawCharts();
    };
    drawToolbar();
    onTable();
    model.on('change:table change:runs change:warnings', onTable);
    model.on('change:specs change:notes', onSpecs);
    model.on(
      'change:metric change:param change:params change:metrics',
      drawToolbar
    );
    await drawCharts();
    return () => {
      closed = true;
      model.off('change:table change:runs change:warnings', onTable);
      model.off('change:specs change:notes', onSpecs);
      model.off(
        'change:metric change:param change:params change:metrics',
        drawToolbar
      );
      for (const result of results.values()) {
        result.finalize();
      }
    };
  }
};

export default compare;
