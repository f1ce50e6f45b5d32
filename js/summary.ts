/**
 * The run summary shown after a %%track cell: status, duration, params (changed ones marked),
 * metrics with their change against the previous run of the cell, and a button that opens the
 * run in the jupyter-track sidebar.
 *
 * The button talks to the sidebar through DOM events (js/lib/sidebar.ts), so the widget needs
 * no JupyterLab import and works (the button disabled) where the extension is absent.
 */

import { formatDuration, formatNumber, formatValue } from '../src/format';
import { h } from './lib/dom';
import { sidebarAvailable, sidebarCommand } from './lib/sidebar';
import type { Cleanup, WidgetModule } from './lib/types';

interface ParamRow {
  key: string;
  value: string;
  previous: string | null;
  changed: boolean;
}

interface MetricRow {
  key: string;
  value: unknown;
  previous: unknown;
  delta: number | null;
}

interface SummaryTraits {
  run: {
    run_id: string;
    name: string;
    status: string;
    duration_ms: number | null;
    error: string | null;
    experiment: string;
  };
  previous: { run_id: string; name: string } | null;
  params: ParamRow[];
  metrics: MetricRow[];
  notes: string[];
}

const COMMAND = 'jupyter-track:open-run';

const summary: WidgetModule<SummaryTraits> = {
  render({ model, el }): Cleanup {
    el.classList.add('jp-Track-w', 'jp-Track-summaryw');
    const draw = (): void => {
      const run = model.get('run');
      const previous = model.get('previous');
      const hint = h('span', { className: 'jp-Track-w-muted' });
      const open = h(
        'button',
        { title: 'Show this run in the jupyter-track sidebar' },
        'Open in sidebar'
      );
      if (!sidebarAvailable(el, COMMAND)) {
        open.disabled = true;
        open.title =
          'The jupyter-track JupyterLab extension is not active here; ' +
          `find the run by its id: ${run.run_id}`;
      }
      open.addEventListener('click', () => {
        if (!sidebarCommand(el, COMMAND, { runId: run.run_id })) {
          hint.textContent = `sidebar not available; run id ${run.run_id}`;
        }
      });
      const head = h(
        'div',
        { className: 'jp-Track-w-head' },
        h(
          'span',
          { className: 'jp-Track-w-dot', attrs: { 'data-status': run.status } },
          'run'
        ),
        h('b', {}, run.name),
        h('span', {}, run.status),
        h(
          'span',
          { className: 'jp-Track-w-muted' },
          formatDuration(run.duration_ms)
        ),
        h('code', { title: run.run_id }, run.run_id.slice(0, 8)),
        run.experiment
          ? h('span', { className: 'jp-Track-w-muted' }, `in ${run.experiment}`)
          : null,
        open,
        hint
      );
      const rows: HTMLElement[] = [];
      for (const param of model.get('params')) {
        rows.push(
          h(
            'tr',
            {},
            h('td', { className: 'jp-Track-w-muted' }, 'param'),
            h('td', {}, param.key),
            h(
              'td',
              { className: param.changed ? 'jp-Track-w-changed' : '' },
              param.value
            ),
            h(
              'td',
              { className: 'jp-Track-w-muted' },
              param.changed && param.previous !== null
                ? `was ${param.previous}`
                : param.changed
                  ? 'new'
                  : ''
            )
          )
        );
      }
      for (const metric of model.get('metrics')) {
        const delta = metric.delta;
        const change =
          delta === null || delta === 0
            ? h(
                'span',
                { className: 'jp-Track-w-muted' },
                delta === 0 ? 'unchanged' : ''
              )
            : h(
                'span',
                { className: delta > 0 ? 'jp-Track-w-up' : 'jp-Track-w-down' },
                `${delta > 0 ? '▲' : '▼'} ${formatNumber(Math.abs(delta))}`
              );
        rows.push(
          h(
            'tr',
            {},
            h('td', { className: 'jp-Track-w-muted' }, 'metric'),
            h('td', {}, metric.key),
            h(
              'td',
              { className: 'jp-Track-w-num' },
              h('b', {}, formatValue(metric.value))
            ),
            h('td', {}, change)
          )
        );
      }
      const parts: (HTMLElement | null)[] = [head];
      if (rows.length) {
        parts.push(h('table', {}, h('tbody', {}, ...rows)));
      }
      if (previous) {
        parts.push(
          h(
            'div',
            { className: 'jp-Track-w-note' },
            `changes against the previous run, ${previous.name}`
          )
        );
      }
      if (run.error) {
        parts.push(h('div', { className: 'jp-Track-w-error' }, run.error));
      }
      for (const note of model.get('notes')) {
        parts.push(h('div', { className: 'jp-Track-w-note' }, note));
      }
      el.replaceChildren(...parts.filter((p): p is HTMLElement => p !== null));
    };
    draw();
    const events =
      'change:run change:params change:metrics change:notes change:previous';
    model.on(events, draw);
    return () => model.off(events, draw);
  }
};

export default summary;
