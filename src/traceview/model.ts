/**
 * The trace view's data: the payload types (`TraceDetail` of docs/openapi.yaml), the span tree
 * in display order, waterfall geometry, token and latency totals, and how to read chat
 * messages out of a span's inputs and outputs (OpenAI chat completions, the Responses API,
 * MLflow's `messages`).
 *
 * Pure functions, no DOM and no JupyterLab: the sidebar (src/) and the notebook widget (js/)
 * share this module and `view.ts`; vitest covers it (`src/__tests__/traceview.test.ts`).
 */

export interface ITraceTokens {
  input: number;
  output: number;
  total: number;
}

export interface ITraceInfo {
  trace_id: string;
  experiment_id: string;
  run_id: string | null;
  name: string | null;
  status: string;
  start_time: number;
  end_time: number | null;
  execution_time_ms: number | null;
  span_count: number;
  tokens: ITraceTokens | null;
  request_preview: string | null;
  response_preview: string | null;
  client_request_id?: string | null;
  notebook?: string | null;
  cell_id?: string | null;
  source?: string | null;
  tags: Record<string, string>;
  metadata: Record<string, string>;
}

export interface ISpanEvent {
  name: string;
  offset_us: number;
  attributes: Record<string, unknown>;
}

export interface ISpan {
  span_id: string;
  parent_id: string | null;
  name: string;
  span_type: string;
  status: string;
  status_message: string | null;
  /** Microseconds from the trace's start. */
  start_us: number;
  /** Null while the span runs. */
  end_us: number | null;
  /** JSON text. */
  inputs: string | null;
  /** JSON text. */
  outputs: string | null;
  attributes: Record<string, unknown>;
  events: ISpanEvent[];
}

export interface IAssessment {
  assessment_id: string;
  kind: 'feedback' | 'expectation' | string;
  name: string;
  value: unknown;
  rationale: string | null;
  error: string | null;
  source_type: string;
  source_id: string | null;
  span_id: string | null;
  run_id?: string | null;
  create_time: number;
}

export interface ITraceDetail {
  info: ITraceInfo;
  spans: ISpan[];
  assessments: IAssessment[];
}

/** A span in the tree, in display order (depth-first, children by start time). */
export interface ITreeRow {
  span: ISpan;
  depth: number;
  /** Ids of the ancestors, outermost first. */
  path: string[];
  childCount: number;
}

/**
 * The spans as a tree in display order. Spans whose parent is not in the trace (a part not
 * received yet) are shown as roots.
 */
export function spanTree(spans: ISpan[]): ITreeRow[] {
  const ids = new Set(spans.map(s => s.span_id));
  const children = new Map<string | null, ISpan[]>();
  for (const span of spans) {
    const parent =
      span.parent_id !== null && ids.has(span.parent_id)
        ? span.parent_id
        : null;
    const list = children.get(parent);
    if (list) {
      list.push(span);
    } else {
      children.set(parent, [span]);
    }
  }
  for (const list of children.values()) {
    list.sort((a, b) => a.start_us - b.start_us);
  }
  const rows: ITreeRow[] = [];
  // iterative depth-first walk: agent traces can be deep
  const stack: { span: ISpan; depth: number; path: string[] }[] = [];
  const roots = children.get(null) ?? [];
  for (let i = roots.length - 1; i >= 0; i--) {
    stack.push({ span: roots[i], depth: 0, path: [] });
  }
  const seen = new Set<string>();
  while (stack.length) {
    const item = stack.pop()!;
    if (seen.has(item.span.span_id)) {
      continue; // a cycle in malformed data
    }
    seen.add(item.span.span_id);
    const kids = children.get(item.span.span_id) ?? [];
    rows.push({
      span: item.span,
      depth: item.depth,
      path: item.path,
      childCount: kids.length
    });
    const path = [...item.path, item.span.span_id];
    for (let i = kids.length - 1; i >= 0; i--) {
      stack.push({ span: kids[i], depth: item.depth + 1, path });
    }
  }
  return rows;
}

/** The rows shown when the spans in `collapsed` are folded. */
export function visibleRows(
  rows: ITreeRow[],
  collapsed: ReadonlySet<string>
): ITreeRow[] {
  if (!collapsed.size) {
    return rows;
  }
  return rows.filter(row => !row.path.some(id => collapsed.has(id)));
}

/** The end of the trace in microseconds (running spans end at the last thing seen). */
export function traceEndUs(spans: ISpan[]): number {
  let end = 0;
  for (const span of spans) {
    end = Math.max(end, span.end_us ?? span.start_us);
    for (const event of span.events) {
      end = Math.max(end, event.offset_us);
    }
  }
  return end;
}

/** Left offset and width of a span's bar, in percent of the trace's duration. */
export function barGeometry(
  span: ISpan,
  totalUs: number
): { left: number; width: number } {
  if (totalUs <= 0) {
    return { left: 0, width: 100 };
  }
  const end = span.end_us ?? totalUs;
  const left = Math.min(100, Math.max(0, (span.start_us / totalUs) * 100));
  const width = Math.max(
    0.3,
    Math.min(100 - left, ((end - span.start_us) / totalUs) * 100)
  );
  return { left, width };
}

/** A span's duration in milliseconds (null while it runs). */
export function spanMs(span: ISpan): number | null {
  return span.end_us === null ? null : (span.end_us - span.start_us) / 1000;
}

/** `mlflow.chat.tokenUsage` of a span, if it has one. */
export function spanTokens(span: ISpan): ITraceTokens | null {
  const usage = span.attributes['mlflow.chat.tokenUsage'];
  if (!usage || typeof usage !== 'object') {
    return null;
  }
  const u = usage as Record<string, unknown>;
  const num = (v: unknown): number => (typeof v === 'number' ? v : 0);
  const input = num(u.input_tokens);
  const output = num(u.output_tokens);
  return { input, output, total: num(u.total_tokens) || input + output };
}

/** JSON text decoded; the text itself when it is not JSON; undefined for null. */
export function decode(text: string | null): unknown {
  if (text === null) {
    return undefined;
  }
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** The marker object a payload truncated by the kernel is replaced with. */
export const TRUNCATED = 'jupyter_track.truncated';

export function truncation(
  value: unknown
): { bytes: number; head: string } | null {
  if (
    value &&
    typeof value === 'object' &&
    (value as Record<string, unknown>)[TRUNCATED]
  ) {
    const v = value as Record<string, unknown>;
    return {
      bytes: typeof v.bytes === 'number' ? v.bytes : 0,
      head: typeof v.head === 'string' ? v.head : ''
    };
  }
  return null;
}

export interface IToolCall {
  id: string | null;
  name: string;
  arguments: string;
}

export interface IChatMessage {
  role: string;
  content: string;
  toolCalls: IToolCall[];
  /** A tool message's call id. */
  toolCallId: string | null;
}

function textOf(content: unknown): string {
  if (typeof content === 'string') {
    return content;
  }
  if (Array.isArray(content)) {
    return content
      .map(part => {
        if (typeof part === 'string') {
          return part;
        }
        if (part && typeof part === 'object') {
          const p = part as Record<string, unknown>;
          if (typeof p.text === 'string') {
            return p.text;
          }
          if (typeof p.refusal === 'string') {
            return p.refusal;
          }
          if (typeof p.type === 'string') {
            return `[${p.type}]`;
          }
        }
        return '';
      })
      .filter(Boolean)
      .join('\n');
  }
  return content === null || content === undefined
    ? ''
    : JSON.stringify(content);
}

function toolCalls(value: unknown): IToolCall[] {
  if (!Array.isArray(value)) {
    return [];
  }
  const out: IToolCall[] = [];
  for (const call of value) {
    if (!call || typeof call !== 'object') {
      continue;
    }
    const c = call as Record<string, unknown>;
    const fn = (c.function ?? {}) as Record<string, unknown>;
    out.push({
      id: typeof c.id === 'string' ? c.id : null,
      name: String(fn.name ?? c.name ?? 'tool'),
      arguments:
        typeof fn.arguments === 'string'
          ? fn.arguments
          : JSON.stringify(fn.arguments ?? c.arguments ?? {})
    });
  }
  return out;
}

function message(value: unknown): IChatMessage | null {
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    return null;
  }
  const m = value as Record<string, unknown>;
  // a Responses API function call / its output
  if (m.type === 'function_call') {
    return {
      role: 'assistant',
      content: '',
      toolCalls: [
        {
          id: typeof m.call_id === 'string' ? m.call_id : null,
          name: String(m.name ?? 'tool'),
          arguments:
            typeof m.arguments === 'string'
              ? m.arguments
              : JSON.stringify(m.arguments)
        }
      ],
      toolCallId: null
    };
  }
  if (m.type === 'function_call_output') {
    return {
      role: 'tool',
      content: textOf(m.output),
      toolCalls: [],
      toolCallId: typeof m.call_id === 'string' ? m.call_id : null
    };
  }
  if (typeof m.role !== 'string') {
    return null;
  }
  return {
    role: m.role,
    content: textOf(m.content),
    toolCalls: toolCalls(m.tool_calls),
    toolCallId: typeof m.tool_call_id === 'string' ? m.tool_call_id : null
  };
}

function messageList(value: unknown): IChatMessage[] | null {
  if (!Array.isArray(value) || !value.length) {
    return null;
  }
  const out: IChatMessage[] = [];
  for (const item of value) {
    const m = message(item);
    if (m === null) {
      return null;
    }
    out.push(m);
  }
  return out;
}

/**
 * Chat messages in a span's inputs or outputs, or null when it holds none: a chat request
 * (`messages`, or the Responses API's `input` and `instructions`), a chat completion
 * (`choices[].message`), a Responses API response (`output` items), or a plain list of
 * messages.
 */
export function chatMessages(value: unknown): IChatMessage[] | null {
  if (Array.isArray(value)) {
    return messageList(value);
  }
  if (!value || typeof value !== 'object') {
    return null;
  }
  const v = value as Record<string, unknown>;
  const fromMessages = messageList(v.messages);
  if (fromMessages) {
    return fromMessages;
  }
  if (Array.isArray(v.choices)) {
    const out: IChatMessage[] = [];
    for (const choice of v.choices) {
      const m =
        choice && typeof choice === 'object'
          ? message((choice as Record<string, unknown>).message)
          : null;
      if (m) {
        out.push(m);
      }
    }
    return out.length ? out : null;
  }
  if ('input' in v && ('model' in v || 'instructions' in v)) {
    const out: IChatMessage[] = [];
    if (typeof v.instructions === 'string') {
      out.push({
        role: 'system',
        content: v.instructions,
        toolCalls: [],
        toolCallId: null
      });
    }
    if (typeof v.input === 'string') {
      out.push({
        role: 'user',
        content: v.input,
        toolCalls: [],
        toolCallId: null
      });
      return out;
    }
    const list = messageList(v.input);
    return list ? [...out, ...list] : null;
  }
  if (Array.isArray(v.output) && v.object === 'response') {
    const out: IChatMessage[] = [];
    for (const item of v.output) {
      const m = message(item);
      if (m) {
        out.push(m);
      }
    }
    return out.length ? out : null;
  }
  return null;
}

export interface ITraceTotals {
  durationMs: number | null;
  spans: number;
  errors: number;
  llmCalls: number;
  tokens: ITraceTokens | null;
}

const LLM_TYPES = new Set(['LLM', 'CHAT_MODEL']);

/** Totals shown in the header: latency, spans, errors, model calls, tokens. */
export function totals(trace: ITraceDetail): ITraceTotals {
  let errors = 0;
  let llmCalls = 0;
  let tokens: ITraceTokens | null = trace.info.tokens;
  let summed: ITraceTokens | null = null;
  for (const span of trace.spans) {
    if (span.status === 'ERROR') {
      errors += 1;
    }
    if (LLM_TYPES.has(span.span_type)) {
      llmCalls += 1;
    }
    const t = spanTokens(span);
    if (t) {
      summed = summed ?? { input: 0, output: 0, total: 0 };
      summed.input += t.input;
      summed.output += t.output;
      summed.total += t.total;
    }
  }
  tokens = tokens ?? summed;
  // the root span's own times are exact to the microsecond; the stored latency is in ms
  const root = trace.spans.find(s => s.parent_id === null);
  const rootMs = root ? spanMs(root) : null;
  return {
    durationMs: rootMs ?? trace.info.execution_time_ms,
    spans: trace.spans.length,
    errors,
    llmCalls,
    tokens
  };
}

/** Short text of a span type for its badge. */
export function typeLabel(spanType: string): string {
  return spanType === 'UNKNOWN'
    ? ''
    : spanType.replace(/_/g, ' ').toLowerCase();
}
