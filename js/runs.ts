/**
 * jt.runs(): a sortable, filterable, multi-select table of runs.
 *
 * The kernel does the querying (same filter grammar and errors as jt.search_runs); this view
 * edits `filter_string`, `sort_by`/`sort_desc`, `page` and `selected`, and draws `rows`.
 * Click a row to select it, Ctrl/Cmd-click to add or remove one, Shift-click for a range.
 */

import {
  formatDuration,
  formatShortTime,
  formatTime,
  formatValue
} from '../src/format';
import { h } from './lib/dom';
import type { Cleanup, WidgetModule } from './lib/types';

interface Column {
  key: string;
  label: string;
  kind: 'text' | 'number' | 'time' | 'duration' | 'status';
  sortable: boolean;
  title: string;
}

interface Row {
  run_id: string;
  cells: unknown[];
}

interface FilterError {
  message: string;
  position: number | null;
  text: string;
}

interface RunsTraits {
  columns: Column[];
  rows: Row[];
  total: number;
  page: number;
  page_size: number;
  filter_string: string;
  sort_by: string;
  sort_desc: boolean;
  selected: string[];
  error: FilterError | null;
  caption: string;
}

function cellText(column: Column, value: unknown): string {
  switch (column.kind) {
    case 'time':
      return formatShortTime(value as number | null);
    case 'duration':
      return formatDuration(value as number | null);
    default:
      return formatValue(value);
  }
}

function numeric(column: Column): boolean {
  return column.kind === 'number' || column.kind === 'duration';
}

function renderError(box: HTMLElement, error: FilterError | null): void {
  box.replaceChildren();
  box.hidden = !error;
  if (!error) {
    return;
  }
  box.append(error.message);
  if (error.position !== null && error.text) {
    box.append(
      h(
        'pre',
        { className: 'jp-Track-w-caret' },
        `\n${error.text}\n${' '.repeat(error.position)}^`
      )
    );
  }
}

const runs: WidgetModule<RunsTraits> = {
  render({ model, el }): Cleanup {
    el.classList.add('jp-Track-w', 'jp-Track-runs');
    let anchor: string | null = null;

    const input = h('input', {
      className: 'jp-Track-w-filter',
      attrs: {
        type: 'text',
        spellcheck: 'false',
        placeholder: "filter, e.g. metrics.loss < 0.5 AND params.model = 'mlp'",
        'aria-label': 'run filter'
      }
    });
    const apply = (): void => {
      model.set('filter_string', input.value);
      model.set('page', 0);
      model.save_changes();
    };
    input.addEventListener('keydown', event => {
      if (event.key === 'Enter') {
        apply();
      }
    });
    const applyButton = h('button', { on: { click: apply } }, 'Filter');
    const counts = h('span', { className: 'jp-Track-w-muted' });
    const clearSelection = h(
      'button',
      {
        title: 'Clear the selection',
        on: {
          click: () => {
            model.set('selected', []);
            model.save_changes();
          }
        }
      },
      'Clear selection'
    );
    const refresh = h(
      'button',
      {
        title: 'Run the query again (new runs appear; the selection is kept)',
        on: { click: () => model.send({ type: 'refresh' }) }
      },
      'Refresh'
    );
    const toolbar = h(
      'div',
      { className: 'jp-Track-w-toolbar' },
      input,
      applyButton,
      counts,
      clearSelection,
      refresh
    );
    const errorBox = h('div', {
      className: 'jp-Track-w-error',
      attrs: { role: 'alert' }
    });
    const thead = h('thead');
    const tbody = h('tbody');
    const table = h('table', {}, thead, tbody);
    const wrap = h('div', { className: 'jp-Track-w-tablewrap' }, table);
    const caption = h('span');
    const prev = h('button', {}, '‹ Previous');
    const next = h('button', {}, 'Next ›');
    const pager = h(
      'div',
      { className: 'jp-Track-w-pager' },
      prev,
      next,
      caption
    );
    el.replaceChildren(toolbar, errorBox, wrap, pager);

    const goto = (page: number): void => {
      model.set('page', page);
      model.save_changes();
    };
    prev.addEventListener('click', () =>
      goto(Math.max(0, model.get('page') - 1))
    );
    next.addEventListener('click', () => goto(model.get('page') + 1));

    const setSelected = (ids: string[]): void => {
      model.set('selected', ids);
      model.save_changes();
    };

    const onRowClick = (event: MouseEvent, runId: string): void => {
      const selected = model.get('selected');
      const visible = model.get('rows').map(r => r.run_id);
      if (event.shiftKey && anchor && visible.includes(anchor)) {
        const a = visible.indexOf(anchor);
        const b = visible.indexOf(runId);
        const range = visible.slice(Math.min(a, b), Math.max(a, b) + 1);
        setSelected([...new Set([...selected, ...range])]);
        return;
      }
      anchor = runId;
      if (
        event.ctrlKey ||
        event.metaKey ||
        (event.target as HTMLElement).tagName === 'INPUT'
      ) {
        setSelected(
          selected.includes(runId)
            ? selected.filter(id => id !== runId)
            : [...selected, runId]
        );
      } else {
        setSelected(
          selected.length === 1 && selected[0] === runId ? [] : [runId]
        );
      }
    };

    const drawHead = (): void => {
      const columns = model.get('columns');
      const sortBy = model.get('sort_by');
      const desc = model.get('sort_desc');
      const rows = model.get('rows');
      const selected = new Set(model.get('selected'));
      const all = h('input', {
        attrs: { type: 'checkbox', 'aria-label': 'select all shown' }
      });
      all.checked = rows.length > 0 && rows.every(r => selected.has(r.run_id));
      all.addEventListener('change', () => {
        const ids = rows.map(r => r.run_id);
        const current = model.get('selected');
        setSelected(
          all.checked
            ? [...new Set([...current, ...ids])]
            : current.filter(id => !ids.includes(id))
        );
      });
      const cells = columns.map(column => {
        const th = h(
          'th',
          {
            className:
              (column.sortable ? 'jp-Track-w-sortable ' : '') +
              (numeric(column) ? 'jp-Track-w-num' : ''),
            title: column.title
          },
          column.label
        );
        if (column.key === sortBy) {
          th.append(
            h('span', { className: 'jp-Track-w-sort' }, desc ? '▼' : '▲')
          );
          th.setAttribute('aria-sort', desc ? 'descending' : 'ascending');
        }
        if (column.sortable) {
          th.addEventListener('click', () => {
            // ascending, descending, then back to the default order
            if (column.key !== sortBy) {
              model.set('sort_by', column.key);
              model.set('sort_desc', false);
            } else if (!desc) {
              model.set('sort_desc', true);
            } else {
              model.set('sort_by', '');
              model.set('sort_desc', false);
            }
            model.set('page', 0);
            model.save_changes();
          });
        }
        return th;
      });
      thead.replaceChildren(h('tr', {}, h('th', {}, all), ...cells));
    };

    const drawBody = (): void => {
      const columns = model.get('columns');
      const selected = new Set(model.get('selected'));
      const rows = model.get('rows');
      tbody.replaceChildren(
        ...rows.map(row => {
          const box = h('input', {
            attrs: { type: 'checkbox', 'aria-label': 'select run' }
          });
          box.checked = selected.has(row.run_id);
          const tr = h(
            'tr',
            {
              className: selected.has(row.run_id) ? 'jp-mod-selected' : '',
              attrs: { 'data-run-id': row.run_id }
            },
            h('td', {}, box),
            ...columns.map((column, i) => {
              const td = h(
                'td',
                { className: numeric(column) ? 'jp-Track-w-num' : '' },
                cellText(column, row.cells[i])
              );
              if (column.kind === 'status') {
                td.classList.add('jp-Track-w-dot');
                td.dataset.status = String(row.cells[i]);
              }
              td.title =
                column.kind === 'time'
                  ? formatTime(row.cells[i] as number | null)
                  : cellText(column, row.cells[i]);
              return td;
            })
          );
          tr.addEventListener('click', event => onRowClick(event, row.run_id));
          return tr;
        })
      );
      if (!rows.length) {
        tbody.append(
          h(
            'tr',
            {},
            h(
              'td',
              {
                className: 'jp-Track-w-muted',
                attrs: { colspan: String(columns.length + 1) }
              },
              model.get('error')
                ? 'No runs: the filter has an error.'
                : 'No runs match.'
            )
          )
        );
      }
    };

    const drawCounts = (): void => {
      const total = model.get('total');
      const page = model.get('page');
      const size = model.get('page_size');
      const nSelected = model.get('selected').length;
      counts.textContent = `${total} run${total === 1 ? '' : 's'} · ${nSelected} selected`;
      clearSelection.disabled = nSelected === 0;
      const first = total ? page * size + 1 : 0;
      const last = Math.min(total, (page + 1) * size);
      caption.textContent = `${first}–${last} of ${total}${model.get('caption') ? ' · ' + model.get('caption') : ''}`;
      prev.disabled = page <= 0;
      next.disabled = last >= total;
      pager.hidden = total <= size && page === 0;
    };

    const drawAll = (): void => {
      if (document.activeElement !== input) {
        input.value = model.get('filter_string');
      }
      renderError(errorBox, model.get('error'));
      drawHead();
      drawBody();
      drawCounts();
    };
    const onSelection = (): void => {
      drawHead();
      drawBody();
      drawCounts();
    };
    drawAll();
    const events =
      'change:rows change:columns change:error change:total change:page change:sort_by change:sort_desc change:filter_string change:caption';
    model.on(events, drawAll);
    model.on('change:selected', onSelection);
    return () => {
      model.off(events, drawAll);
      model.off('change:selected', onSelection);
    };
  }
};

export default runs;
