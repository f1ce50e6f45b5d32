import { describe, expect, it } from 'vitest';

import {
  barGeometry,
  chatMessages,
  decode,
  ISpan,
  ITraceDetail,
  spanTree,
  totals,
  traceEndUs,
  truncation,
  visibleRows
} from '../traceview/model';

function span(over: Partial<ISpan>): ISpan {
  return {
    span_id: 's',
    parent_id: null,
    name: 'span',
    span_type: 'UNKNOWN',
    status: 'OK',
    status_message: null,
    start_us: 0,
    end_us: 10,
    inputs: null,
    outputs: null,
    attributes: {},
    events: [],
    ...over
  };
}

const SPANS = [
  span({
    span_id: 'c2',
    parent_id: 'r',
    name: 'second',
    start_us: 50,
    end_us: 90
  }),
  span({ span_id: 'r', name: 'root', start_us: 0, end_us: 100 }),
  span({
    span_id: 'c1',
    parent_id: 'r',
    name: 'first',
    start_us: 10,
    end_us: 40
  }),
  span({
    span_id: 'g',
    parent_id: 'c1',
    name: 'grandchild',
    start_us: 20,
    end_us: 30
  }),
  span({
    span_id: 'o',
    parent_id: 'gone',
    name: 'orphan',
    start_us: 95,
    end_us: null
  })
];

describe('spanTree', () => {
  it('orders depth-first with children by start time, orphans as roots', () => {
    const rows = spanTree(SPANS);
    expect(rows.map(r => [r.span.name, r.depth])).toEqual([
      ['root', 0],
      ['first', 1],
      ['grandchild', 2],
      ['second', 1],
      ['orphan', 0]
    ]);
    expect(rows[0].childCount).toBe(2);
    expect(rows[2].path).toEqual(['r', 'c1']);
  });

  it('survives a parent cycle in malformed data', () => {
    const rows = spanTree([
      span({ span_id: 'a', parent_id: 'b' }),
      span({ span_id: 'b', parent_id: 'a' })
    ]);
    expect(rows).toEqual([]);
  });

  it('handles thousands of spans', () => {
    const many = [span({ span_id: 'root', end_us: 1e6 })];
    for (let i = 0; i < 2000; i++) {
      many.push(
        span({
          span_id: `s${i}`,
          parent_id: i % 10 === 0 ? 'root' : `s${i - (i % 10)}`,
          start_us: i,
          end_us: i + 5
        })
      );
    }
    expect(spanTree(many)).toHaveLength(2001);
  });
});

describe('visibleRows', () => {
  it('hides the descendants of folded spans', () => {
    const rows = spanTree(SPANS);
    expect(visibleRows(rows, new Set(['c1'])).map(r => r.span.name)).toEqual([
      'root',
      'first',
      'second',
      'orphan'
    ]);
    expect(visibleRows(rows, new Set(['r'])).map(r => r.span.name)).toEqual([
      'root',
      'orphan'
    ]);
  });
});

describe('waterfall', () => {
  it('places bars in percent of the trace; running spans reach the end', () => {
    const end = traceEndUs(SPANS);
    expect(end).toBe(100);
    expect(barGeometry(SPANS[2], end)).toEqual({ left: 10, width: 30 });
    expect(barGeometry(SPANS[4], end)).toEqual({ left: 95, width: 5 });
    expect(barGeometry(SPANS[0], 0)).toEqual({ left: 0, width: 100 });
    // a zero-length span is still visible
    expect(
      barGeometry(span({ start_us: 50, end_us: 50 }), 100).width
    ).toBeGreaterThan(0);
  });
});

describe('chatMessages', () => {
  it('reads a chat request and a completion with tool calls', () => {
    const request = {
      model: 'gpt',
      messages: [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: [{ type: 'text', text: 'weather?' }] },
        { role: 'tool', tool_call_id: 'c1', content: 'sunny' }
      ]
    };
    const inputs = chatMessages(request);
    expect(inputs?.map(m => [m.role, m.content, m.toolCallId])).toEqual([
      ['system', 'be brief', null],
      ['user', 'weather?', null],
      ['tool', 'sunny', 'c1']
    ]);
    const completion = {
      choices: [
        {
          message: {
            role: 'assistant',
            content: null,
            tool_calls: [
              {
                id: 'c1',
                function: { name: 'get_weather', arguments: '{"city":"Paris"}' }
              }
            ]
          }
        }
      ]
    };
    const out = chatMessages(completion);
    expect(out?.[0].toolCalls).toEqual([
      { id: 'c1', name: 'get_weather', arguments: '{"city":"Paris"}' }
    ]);
  });

  it('reads the Responses API', () => {
    expect(
      chatMessages({ model: 'm', instructions: 'sys', input: 'hi' })?.map(
        m => m.role
      )
    ).toEqual(['system', 'user']);
    const response = {
      object: 'response',
      output: [
        {
          type: 'message',
          role: 'assistant',
          content: [{ type: 'output_text', text: 'hello' }]
        },
        { type: 'function_call', call_id: 'x', name: 'f', arguments: '{}' }
      ]
    };
    const out = chatMessages(response);
    expect(out?.map(m => [m.role, m.content])).toEqual([
      ['assistant', 'hello'],
      ['assistant', '']
    ]);
    expect(out?.[1].toolCalls[0].name).toBe('f');
  });

  it('says null for values that are not chats', () => {
    for (const value of [
      null,
      'text',
      3,
      { question: 'x' },
      [1, 2],
      { messages: [] },
      []
    ]) {
      expect(chatMessages(value)).toBeNull();
    }
  });
});

describe('payload helpers', () => {
  it('decodes JSON text and recognizes the truncation marker', () => {
    expect(decode(null)).toBeUndefined();
    expect(decode('{"a":1}')).toEqual({ a: 1 });
    expect(decode('not json')).toBe('not json');
    expect(
      truncation({ 'jupyter_track.truncated': true, bytes: 5000, head: '{"a"' })
    ).toEqual({ bytes: 5000, head: '{"a"' });
    expect(truncation({ a: 1 })).toBeNull();
  });
});

describe('totals', () => {
  it('counts spans, errors, model calls and tokens', () => {
    const trace: ITraceDetail = {
      info: {
        trace_id: 'tr-1',
        experiment_id: '0',
        run_id: null,
        name: 'agent',
        status: 'ERROR',
        start_time: 0,
        end_time: 1,
        execution_time_ms: 1,
        span_count: 3,
        tokens: null,
        request_preview: null,
        response_preview: null,
        tags: {},
        metadata: {}
      },
      spans: [
        span({ span_id: 'a', span_type: 'AGENT', status: 'ERROR' }),
        span({
          span_id: 'b',
          span_type: 'CHAT_MODEL',
          attributes: {
            'mlflow.chat.tokenUsage': {
              input_tokens: 3,
              output_tokens: 4,
              total_tokens: 7
            }
          }
        }),
        span({
          span_id: 'c',
          span_type: 'LLM',
          attributes: {
            'mlflow.chat.tokenUsage': { input_tokens: 1, output_tokens: 1 }
          }
        })
      ],
      assessments: []
    };
    expect(totals(trace)).toEqual({
      durationMs: 0.01, // the root span's own 10us, more exact than the stored 1ms
      spans: 3,
      errors: 1,
      llmCalls: 2,
      tokens: { input: 4, output: 5, total: 9 }
    });
  });
});
