/**
 * The trace widget (`jt.show_traces()`, a displayed `Trace`, the traces of a cell): the one
 * trace view of `src/traceview/view.ts`, fed by the kernel (no server extension needed).
 *
 * Traits: `traces` (TraceDetail payloads, docs/openapi.yaml), `selected` (the index shown),
 * `selected_span` (the span shown; set from either side). With more than one trace a row of
 * buttons picks one. "Open in sidebar" asks the sidebar (when present) to open the trace in
 * its Traces tab; "Open run" opens the trace's run.
 */

import type { ITraceDetail } from '../src/traceview/model';
import { TraceView } from '../src/traceview/view';
import { formatDuration } from '../src/format';
import { h } from './lib/dom';
import { sidebarAvailable, sidebarCommand } from './lib/sidebar';
import type { Cleanup, WidgetModule } from './lib/types';

interface TraceTraits {
  traces: ITraceDetail[];
  selected: number;
  selected_span: string;
}

const OPEN_TRACE = 'jupyter-track:open-trace';
const OPEN_RUN = 'jupyter-track:open-run';

const widget: WidgetModule<TraceTraits> = {
  render({ model, el }): Cleanup {
    el.classList.add('jp-Track-w', 'jp-TraceWidget');
    const picker = h('div', { className: 'jp-TraceWidget-picker' });
    const toolbar = h('div', { className: 'jp-Track-w-toolbar' });
    const hint = h('span', { className: 'jp-Track-w-muted' });
    let syncing = false;
    const view = new TraceView({
      onOpenRun: sidebarAvailable(el, OPEN_RUN)
        ? runId => {
            if (!sidebarCommand(el, OPEN_RUN, { runId })) {
              hint.textContent = `sidebar not available; run id ${runId}`;
            }
          }
        : undefined,
      onSelect: spanId => {
        if (!syncing && (spanId ?? '') !== model.get('selected_span')) {
          model.set('selected_span', spanId ?? '');
          model.save_changes();
        }
      }
    });
    const openTrace = h(
      'button',
      {
        title: 'Show this trace in the Traces tab of the jupyter-track sidebar'
      },
      'Open in sidebar'
    );
    openTrace.addEventListener('click', () => {
      const trace = view.trace;
      if (
        trace &&
        !sidebarCommand(el, OPEN_TRACE, { traceId: trace.info.trace_id })
      ) {
        hint.textContent = `sidebar not available; trace id ${trace.info.trace_id}`;
      }
    });
    if (!sidebarAvailable(el, OPEN_TRACE)) {
      openTrace.disabled = true;
      openTrace.title =
        'The jupyter-track JupyterLab extension is not active here';
    }
    toolbar.append(openTrace, hint);

    const draw = (): void => {
      const traces = model.get('traces') ?? [];
      const index = Math.min(
        Math.max(model.get('selected') ?? 0, 0),
        traces.length - 1
      );
      picker.replaceChildren();
      picker.hidden = traces.length < 2;
      traces.forEach((trace, i) => {
        const button = h(
          'button',
          {
            className:
              'jp-TraceWidget-pick' + (i === index ? ' jp-mod-active' : ''),
            title: trace.info.request_preview ?? trace.info.trace_id,
            on: {
              click: () => {
                model.set('selected', i);
                model.set('selected_span', '');
                model.save_changes();
              }
            }
          },
          h('span', {
            className: `jp-TraceView-status jp-mod-${trace.info.status.toLowerCase()}`
          }),
          trace.info.name ?? trace.info.trace_id,
          h(
            'span',
            { className: 'jp-Track-w-muted' },
            formatDuration(trace.info.execution_time_ms)
          )
        );
        button.dataset.traceId = trace.info.trace_id;
        picker.append(button);
      });
      syncing = true;
      try {
        const trace = traces[index] ?? null;
        if (
          view.trace?.info.trace_id !== trace?.info.trace_id ||
          view.trace !== trace
        ) {
          view.setTrace(trace);
        }
        const wanted = model.get('selected_span');
        if (wanted && wanted !== view.selectedSpanId) {
          view.selectSpan(wanted);
        }
      } finally {
        syncing = false;
      }
      if (!traces.length) {
        view.node.replaceChildren(
          h('div', { className: 'jp-Track-w-muted' }, 'No traces.')
        );
      }
    };
    el.append(picker, view.node, toolbar);
    draw();
    model.on('change:traces', draw);
    model.on('change:selected', draw);
    model.on('change:selected_span', draw);
    return () => {
      model.off('change:traces', draw);
      model.off('change:selected', draw);
      model.off('change:selected_span', draw);
      view.dispose();
    };
  }
};

export default widget;
