/**
 * THE trace view: a span tree with a waterfall timeline, the selected span's inputs and
 * outputs (chat messages drawn as a conversation, JSON folded), attributes, events and errors,
 * and the trace's token and latency totals and assessments.
 *
 * Plain DOM, no framework and no JupyterLab import: the sidebar's Traces tab
 * (`src/components/traces/`) and the notebook widget (`js/traces.ts`) both mount this class,
 * so there is one view. Styles: `style/traceview.css` (also bundled with the widgets). All text
 * goes in through `textContent`.
 */

import { formatDuration, formatTime, formatValue } from '../format';
import { jsonTree } from './json';
import {
  barGeometry,
  chatMessages,
  decode,
  IAssessment,
  IChatMessage,
  ISpan,
  ITraceDetail,
  ITreeRow,
  spanMs,
  spanTokens,
  spanTree,
  totals,
  traceEndUs,
  truncation,
  typeLabel,
  visibleRows
} from './model';

export interface ITraceViewOptions {
  /** Open a run (the sidebar's Run tab); the run link is hidden without it. */
  onOpenRun?: (runId: string) => void;
  /** Called when the selected span changes. */
  onSelect?: (spanId: string | null) => void;
}

type Tab = 'chat' | 'inputs' | 'outputs' | 'attributes' | 'events';

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className?: string,
  text?: string
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) {
    node.className = className;
  }
  if (text !== undefined) {
    node.textContent = text;
  }
  return node;
}

function statusClass(status: string): string {
  return (
    'jp-TraceView-status jp-mod-' + status.toLowerCase().replace(/[^a-z_]/g, '')
  );
}

function tokensText(tokens: {
  input: number;
  output: number;
  total: number;
}): string {
  return `${tokens.total} tokens (${tokens.input} in, ${tokens.output} out)`;
}

function assessmentValue(a: IAssessment): string {
  if (a.error) {
    return 'error';
  }
  if (typeof a.value === 'string') {
    return a.value;
  }
  if (typeof a.value === 'number') {
    return formatValue(a.value);
  }
  return JSON.stringify(a.value);
}

/** Chat messages as a conversation. */
export function conversation(
  messages: IChatMessage[],
  answer = false
): HTMLElement {
  const box = el('div', 'jp-TraceView-chat');
  for (const m of messages) {
    const bubble = el(
      'div',
      `jp-TraceView-msg jp-mod-${m.role.replace(/[^a-z_]/gi, '')}`
    );
    if (answer) {
      bubble.classList.add('jp-mod-answer');
    }
    const role = el('div', 'jp-TraceView-msg-role', m.role);
    if (m.toolCallId) {
      role.append(el('span', 'jp-TraceView-muted', ` · ${m.toolCallId}`));
    }
    bubble.append(role);
    if (m.content) {
      bubble.append(el('div', 'jp-TraceView-msg-text', m.content));
    }
    for (const call of m.toolCalls) {
      const tool = el('div', 'jp-TraceView-toolcall');
      tool.append(el('span', 'jp-TraceView-toolcall-name', `→ ${call.name}`));
      let args: unknown = call.arguments;
      try {
        args = JSON.parse(call.arguments);
      } catch {
        // arguments that are not JSON are shown as text
      }
      tool.append(jsonTree(args, 1));
      bubble.append(tool);
    }
    box.append(bubble);
  }
  return box;
}

/** A payload (JSON text) for the detail pane: folded JSON, a truncation note, or nothing. */
function payload(text: string | null): HTMLElement {
  const value = decode(text);
  if (value === undefined) {
    return el('div', 'jp-TraceView-muted', 'none');
  }
  const cut = truncation(value);
  if (cut) {
    const box = el('div');
    box.append(
      el(
        'div',
        'jp-TraceView-note',
        `Truncated: the payload was ${cut.bytes.toLocaleString()} bytes; its start:`
      ),
      el('pre', 'jp-TraceView-pre', cut.head)
    );
    return box;
  }
  if (typeof value === 'string') {
    return el('pre', 'jp-TraceView-pre', value);
  }
  return jsonTree(value);
}

export class TraceView {
  readonly node: HTMLElement;

  constructor(options: ITraceViewOptions = {}) {
    this._options = options;
    this.node = el('div', 'jp-TraceView');
    this._header = el('div', 'jp-TraceView-header');
    this._assessments = el('div', 'jp-TraceView-assessments');
    const body = el('div', 'jp-TraceView-body');
    this._tree = el('div', 'jp-TraceView-tree');
    this._tree.setAttribute('role', 'tree');
    this._tree.tabIndex = 0;
    this._tree.addEventListener('keydown', event => this._onKey(event));
    this._detail = el('div', 'jp-TraceView-detail');
    body.append(this._tree, this._detail);
    this.node.append(this._header, this._assessments, body);
  }

  /** The trace shown (null: an empty view). */
  get trace(): ITraceDetail | null {
    return this._trace;
  }

  get selectedSpanId(): string | null {
    return this._selected;
  }

  /** Show `trace`; the selection is kept when the span is still there, else the root. */
  setTrace(trace: ITraceDetail | null): void {
    this._trace = trace;
    this._rows = trace ? spanTree(trace.spans) : [];
    this._collapsed = new Set();
    this._endUs = trace ? traceEndUs(trace.spans) : 0;
    this._renderHeader();
    this._renderAssessments();
    this._renderTree();
    const keep = this._rows.some(r => r.span.span_id === this._selected);
    this.selectSpan(
      keep ? this._selected : (this._rows[0]?.span.span_id ?? null)
    );
  }

  /** Select a span (its row is highlighted and its detail shown). */
  selectSpan(spanId: string | null): void {
    this._selected = spanId;
    for (const row of Array.from(
      this._tree.querySelectorAll('.jp-TraceView-row')
    )) {
      const on = (row as HTMLElement).dataset.spanId === spanId;
      row.classList.toggle('jp-mod-selected', on);
      row.setAttribute('aria-selected', on ? 'true' : 'false');
    }
    this._renderDetail();
    this._options.onSelect?.(spanId);
  }

  dispose(): void {
    this.node.remove();
  }

  // ------------------------------------------------------------------------------ header

  private _renderHeader(): void {
    const header = this._header;
    header.replaceChildren();
    const trace = this._trace;
    if (!trace) {
      header.append(el('div', 'jp-TraceView-muted', 'No trace selected.'));
      return;
    }
    const info = trace.info;
    const sum = totals(trace);
    const title = el('div', 'jp-TraceView-title');
    title.append(
      el(
        'span',
        statusClass(info.status),
        info.status.replace('_', ' ').toLowerCase()
      ),
      el('span', 'jp-TraceView-name', info.name ?? info.trace_id)
    );
    const meta = el('div', 'jp-TraceView-meta');
    const item = (text: string, title?: string): void => {
      const span = el('span', 'jp-TraceView-metric', text);
      if (title) {
        span.title = title;
      }
      meta.append(span);
    };
    item(
      sum.durationMs === null ? 'running' : formatDuration(sum.durationMs),
      'Latency of the trace (its root span)'
    );
    item(`${sum.spans} span${sum.spans === 1 ? '' : 's'}`);
    if (sum.llmCalls) {
      item(`${sum.llmCalls} model call${sum.llmCalls === 1 ? '' : 's'}`);
    }
    if (sum.tokens) {
      item(tokensText(sum.tokens), 'Token usage of the model calls');
    }
    if (sum.errors) {
      const errors = el(
        'span',
        'jp-TraceView-metric jp-mod-error',
        `${sum.errors} error${sum.errors === 1 ? '' : 's'}`
      );
      meta.append(errors);
    }
    item(formatTime(info.start_time), 'Started');
    if (info.run_id && this._options.onOpenRun) {
      const runId = info.run_id;
      const link = el(
        'button',
        'jp-TraceView-link jp-TraceView-runlink',
        'Open run'
      );
      link.title = `Open run ${runId}`;
      link.addEventListener('click', () => this._options.onOpenRun?.(runId));
      meta.append(link);
    }
    const id = el('code', 'jp-TraceView-id', info.trace_id);
    id.title = 'Trace id';
    meta.append(id);
    header.append(title, meta);
  }

  private _renderAssessments(): void {
    const box = this._assessments;
    box.replaceChildren();
    const items = this._trace?.assessments ?? [];
    box.hidden = !items.length;
    for (const a of items) {
      const chip = el('span', `jp-TraceView-chip jp-mod-${a.kind}`);
      chip.dataset.assessment = a.name;
      chip.append(
        el('span', 'jp-TraceView-chip-name', a.name),
        el('span', 'jp-TraceView-chip-value', assessmentValue(a))
      );
      const who = a.source_id
        ? `${a.source_type} ${a.source_id}`
        : a.source_type;
      chip.title = [
        `${a.kind}: ${a.name} = ${assessmentValue(a)}`,
        a.rationale ? `Rationale: ${a.rationale}` : '',
        a.error ? `Error: ${a.error}` : '',
        `Source: ${who}`
      ]
        .filter(Boolean)
        .join('\n');
      box.append(chip);
    }
  }

  // -------------------------------------------------------------------------------- tree

  private _renderTree(): void {
    const tree = this._tree;
    tree.replaceChildren();
    if (!this._trace) {
      return;
    }
    const axis = el('div', 'jp-TraceView-axis');
    const axisLabel = el('div', 'jp-TraceView-axis-label', 'span');
    const ticks = el('div', 'jp-TraceView-lane');
    for (const fraction of [0, 0.25, 0.5, 0.75, 1]) {
      const tick = el(
        'span',
        'jp-TraceView-tick',
        formatDuration((this._endUs * fraction) / 1000)
      );
      tick.style.left = `${fraction * 100}%`;
      ticks.append(tick);
    }
    axis.append(axisLabel, ticks);
    const rows = document.createDocumentFragment();
    for (const row of visibleRows(this._rows, this._collapsed)) {
      rows.append(this._row(row));
    }
    const list = el('div', 'jp-TraceView-rows');
    list.append(rows);
    tree.append(axis, list);
  }

  private _row(row: ITreeRow): HTMLElement {
    const span = row.span;
    const node = el('div', 'jp-TraceView-row');
    node.dataset.spanId = span.span_id;
    node.setAttribute('role', 'treeitem');
    node.setAttribute('aria-level', String(row.depth + 1));
    if (span.span_id === this._selected) {
      node.classList.add('jp-mod-selected');
    }
    if (span.status === 'ERROR') {
      node.classList.add('jp-mod-error');
    }
    const label = el('div', 'jp-TraceView-label');
    label.style.paddingLeft = `${row.depth * 14 + 2}px`;
    const toggle = el('span', 'jp-TraceView-toggle');
    if (row.childCount) {
      const closed = this._collapsed.has(span.span_id);
      toggle.textContent = closed ? '▸' : '▾';
      toggle.title = closed ? `Show ${row.childCount} child spans` : 'Fold';
      node.setAttribute('aria-expanded', closed ? 'false' : 'true');
      toggle.addEventListener('click', event => {
        event.stopPropagation();
        this._toggle(span.span_id);
      });
    }
    label.append(toggle, el('span', statusClass(span.status)));
    label.append(el('span', 'jp-TraceView-span-name', span.name));
    const kind = typeLabel(span.span_type);
    if (kind) {
      label.append(
        el(
          'span',
          `jp-TraceView-type jp-mod-${span.span_type.toLowerCase()}`,
          kind
        )
      );
    }
    const ms = spanMs(span);
    label.append(
      el(
        'span',
        'jp-TraceView-duration',
        ms === null ? 'running' : formatDuration(ms)
      )
    );
    const lane = el('div', 'jp-TraceView-lane');
    const bar = el(
      'div',
      `jp-TraceView-bar jp-mod-${span.span_type.toLowerCase()}`
    );
    if (span.status === 'ERROR') {
      bar.classList.add('jp-mod-error');
    }
    if (span.end_us === null) {
      bar.classList.add('jp-mod-running');
    }
    const geometry = barGeometry(span, this._endUs);
    bar.style.left = `${geometry.left}%`;
    bar.style.width = `${geometry.width}%`;
    lane.append(bar);
    node.append(label, lane);
    node.title = `${span.name} (${span.span_type}) ${ms === null ? 'running' : formatDuration(ms)}`;
    node.addEventListener('click', () => this.selectSpan(span.span_id));
    return node;
  }

  private _toggle(spanId: string): void {
    if (this._collapsed.has(spanId)) {
      this._collapsed.delete(spanId);
    } else {
      this._collapsed.add(spanId);
    }
    this._renderTree();
  }

  private _onKey(event: KeyboardEvent): void {
    const shown = visibleRows(this._rows, this._collapsed);
    const index = shown.findIndex(r => r.span.span_id === this._selected);
    if (event.key === 'ArrowDown' && index < shown.length - 1) {
      this.selectSpan(shown[index + 1].span.span_id);
    } else if (event.key === 'ArrowUp' && index > 0) {
      this.selectSpan(shown[index - 1].span.span_id);
    } else if (
      (event.key === 'ArrowLeft' || event.key === 'ArrowRight') &&
      index >= 0
    ) {
      const row = shown[index];
      const closed = this._collapsed.has(row.span.span_id);
      if (row.childCount && closed === (event.key === 'ArrowRight')) {
        this._toggle(row.span.span_id);
      }
    } else {
      return;
    }
    event.preventDefault();
  }

  // ------------------------------------------------------------------------------ detail

  private _span(): ISpan | null {
    return this._trace?.spans.find(s => s.span_id === this._selected) ?? null;
  }

  private _renderDetail(): void {
    const box = this._detail;
    box.replaceChildren();
    const span = this._span();
    if (!span) {
      if (this._trace) {
        box.append(el('div', 'jp-TraceView-muted', 'Select a span.'));
      }
      return;
    }
    const head = el('div', 'jp-TraceView-detail-head');
    head.append(
      el('span', statusClass(span.status)),
      el('span', 'jp-TraceView-detail-name', span.name)
    );
    if (typeLabel(span.span_type)) {
      head.append(
        el(
          'span',
          `jp-TraceView-type jp-mod-${span.span_type.toLowerCase()}`,
          typeLabel(span.span_type)
        )
      );
    }
    const ms = spanMs(span);
    const meta = el('div', 'jp-TraceView-meta');
    meta.append(
      el(
        'span',
        'jp-TraceView-metric',
        ms === null ? 'running' : formatDuration(ms)
      ),
      el(
        'span',
        'jp-TraceView-metric',
        `starts at +${formatDuration(span.start_us / 1000)}`
      )
    );
    const tokens = spanTokens(span);
    if (tokens) {
      meta.append(el('span', 'jp-TraceView-metric', tokensText(tokens)));
    }
    const model =
      span.attributes['gen_ai.request.model'] ?? span.attributes['model'];
    if (typeof model === 'string') {
      meta.append(el('span', 'jp-TraceView-metric', model));
    }
    box.append(head, meta);
    const error = this._error(span);
    if (error) {
      box.append(error);
    }
    const inputs = decode(span.inputs);
    const outputs = decode(span.outputs);
    const chatIn = chatMessages(inputs);
    const chatOut = chatMessages(outputs);
    const tabs: [Tab, string][] = [];
    if (chatIn || chatOut) {
      tabs.push(['chat', 'Chat']);
    }
    tabs.push(['inputs', 'Inputs'], ['outputs', 'Outputs']);
    const attributeCount = Object.keys(span.attributes).length;
    tabs.push(['attributes', `Attributes (${attributeCount})`]);
    tabs.push(['events', `Events (${span.events.length})`]);
    // the tab the user picked, while the span has it; else chat, else inputs
    const picked = this._picked;
    this._tab =
      picked !== null && tabs.some(([t]) => t === picked) ? picked : tabs[0][0];
    const bar = el('div', 'jp-TraceView-tabs');
    bar.setAttribute('role', 'tablist');
    const content = el('div', 'jp-TraceView-tab-content');
    for (const [tab, text] of tabs) {
      const button = el('button', 'jp-TraceView-tab', text);
      button.setAttribute('role', 'tab');
      button.dataset.tab = tab;
      button.setAttribute(
        'aria-selected',
        tab === this._tab ? 'true' : 'false'
      );
      if (tab === this._tab) {
        button.classList.add('jp-mod-active');
      }
      button.addEventListener('click', () => {
        this._picked = tab;
        this._renderDetail();
      });
      bar.append(button);
    }
    if (this._tab === 'chat') {
      if (chatIn) {
        content.append(conversation(chatIn));
      }
      if (chatOut) {
        content.append(conversation(chatOut, true));
      }
    } else if (this._tab === 'inputs') {
      content.append(payload(span.inputs));
    } else if (this._tab === 'outputs') {
      content.append(payload(span.outputs));
    } else if (this._tab === 'attributes') {
      content.append(
        attributeCount
          ? jsonTree(span.attributes, 1)
          : el('div', 'jp-TraceView-muted', 'none')
      );
    } else {
      content.append(this._events(span));
    }
    box.append(bar, content);
  }

  private _error(span: ISpan): HTMLElement | null {
    if (span.status !== 'ERROR') {
      return null;
    }
    const box = el('div', 'jp-TraceView-error');
    box.setAttribute('role', 'alert');
    box.append(
      el('div', 'jp-TraceView-error-message', span.status_message ?? 'error')
    );
    const exception = span.events.find(e => e.name === 'exception');
    const stack = exception?.attributes['exception.stacktrace'];
    if (typeof stack === 'string' && stack) {
      const details = el('details');
      details.append(
        el('summary', undefined, 'Stack trace'),
        el('pre', 'jp-TraceView-pre', stack)
      );
      box.append(details);
    }
    return box;
  }

  private _events(span: ISpan): HTMLElement {
    if (!span.events.length) {
      return el('div', 'jp-TraceView-muted', 'none');
    }
    const list = el('div', 'jp-TraceView-events');
    for (const event of span.events) {
      const row = el('div', 'jp-TraceView-event');
      row.append(
        el('span', 'jp-TraceView-event-name', event.name),
        el(
          'span',
          'jp-TraceView-muted',
          ` +${formatDuration(event.offset_us / 1000)}`
        )
      );
      if (Object.keys(event.attributes).length) {
        row.append(jsonTree(event.attributes, 1));
      }
      list.append(row);
    }
    return list;
  }

  private _options: ITraceViewOptions;
  private _header: HTMLElement;
  private _assessments: HTMLElement;
  private _tree: HTMLElement;
  private _detail: HTMLElement;
  private _trace: ITraceDetail | null = null;
  private _rows: ITreeRow[] = [];
  private _collapsed = new Set<string>();
  private _selected: string | null = null;
  private _endUs = 0;
  private _tab: Tab = 'chat';
  private _picked: Tab | null = null;
}

/** Two traces side by side, with what differs between them (latency, tokens, spans). */
export class TraceComparison {
  readonly node: HTMLElement;
  readonly left: TraceView;
  readonly right: TraceView;

  constructor(options: ITraceViewOptions = {}) {
    this.node = el('div', 'jp-TraceView-compare');
    this._summary = el('table', 'jp-TraceView-compare-summary');
    const panes = el('div', 'jp-TraceView-compare-panes');
    this.left = new TraceView(options);
    this.right = new TraceView(options);
    panes.append(this.left.node, this.right.node);
    this.node.append(this._summary, panes);
  }

  setTraces(a: ITraceDetail, b: ITraceDetail): void {
    this.left.setTrace(a);
    this.right.setTrace(b);
    const ta = totals(a);
    const tb = totals(b);
    const rows: [string, string, string][] = [
      ['trace', a.info.name ?? a.info.trace_id, b.info.name ?? b.info.trace_id],
      ['status', a.info.status, b.info.status],
      ['latency', formatDuration(ta.durationMs), formatDuration(tb.durationMs)],
      ['spans', String(ta.spans), String(tb.spans)],
      ['model calls', String(ta.llmCalls), String(tb.llmCalls)],
      [
        'tokens',
        ta.tokens ? String(ta.tokens.total) : '—',
        tb.tokens ? String(tb.tokens.total) : '—'
      ],
      ['errors', String(ta.errors), String(tb.errors)],
      ['response', a.info.response_preview ?? '', b.info.response_preview ?? '']
    ];
    const body = el('tbody');
    for (const [label, x, y] of rows) {
      const tr = el('tr');
      if (x !== y) {
        tr.classList.add('jp-mod-differs');
      }
      tr.append(
        el('th', undefined, label),
        el('td', undefined, x),
        el('td', undefined, y)
      );
      body.append(tr);
    }
    this._summary.replaceChildren(body);
  }

  dispose(): void {
    this.node.remove();
  }

  private _summary: HTMLElement;
}
