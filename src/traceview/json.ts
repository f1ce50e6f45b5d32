/**
 * A JSON value as a folded tree of `<details>` elements (objects and arrays below the first
 * levels start closed; long strings are cut with a "show all" toggle). Text goes in through
 * `textContent` only: nothing a span holds is ever parsed as HTML.
 */

const OPEN_DEPTH = 2;
const LONG_STRING = 600;
const MANY_ITEMS = 200;

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

function scalar(value: unknown): HTMLElement {
  if (typeof value === 'string') {
    const node = el('span', 'jp-TraceView-json-string');
    if (value.length > LONG_STRING) {
      node.textContent = value.slice(0, LONG_STRING) + '…';
      const more = el(
        'button',
        'jp-TraceView-link',
        `show all (${value.length} chars)`
      );
      more.addEventListener('click', () => {
        node.textContent = value;
      });
      const wrap = el('span');
      wrap.append(node, ' ', more);
      return wrap;
    }
    node.textContent = value;
    return node;
  }
  if (value === null || value === undefined) {
    return el('span', 'jp-TraceView-json-null', 'null');
  }
  if (typeof value === 'number' || typeof value === 'boolean') {
    return el('span', 'jp-TraceView-json-number', String(value));
  }
  return el('span', undefined, String(value));
}

function summaryText(value: unknown[] | Record<string, unknown>): string {
  if (Array.isArray(value)) {
    return `[${value.length} item${value.length === 1 ? '' : 's'}]`;
  }
  const keys = Object.keys(value);
  const shown = keys.slice(0, 4).join(', ');
  return `{${shown}${keys.length > 4 ? ', …' : ''}}`;
}

/** The tree of `value`; `depth` is how deep it sits (the top is 0). */
export function jsonTree(value: unknown, depth = 0): HTMLElement {
  if (value === null || typeof value !== 'object') {
    return scalar(value);
  }
  const entries: [string, unknown][] = Array.isArray(value)
    ? value.map((v, i) => [String(i), v])
    : Object.entries(value as Record<string, unknown>);
  const details = el('details', 'jp-TraceView-json');
  details.open = depth < OPEN_DEPTH;
  const summary = el('summary', 'jp-TraceView-json-summary');
  summary.textContent = summaryText(
    value as unknown[] | Record<string, unknown>
  );
  details.append(summary);
  const fill = (): void => {
    if (details.dataset.filled) {
      return;
    }
    details.dataset.filled = '1';
    const list = el('div', 'jp-TraceView-json-items');
    for (const [key, item] of entries.slice(0, MANY_ITEMS)) {
      const row = el('div', 'jp-TraceView-json-row');
      row.append(
        el('span', 'jp-TraceView-json-key', key + ': '),
        jsonTree(item, depth + 1)
      );
      list.append(row);
    }
    if (entries.length > MANY_ITEMS) {
      list.append(
        el('div', 'jp-TraceView-muted', `… ${entries.length - MANY_ITEMS} more`)
      );
    }
    details.append(list);
  };
  // closed nodes build their children when first opened (large payloads stay cheap)
  if (details.open) {
    fill();
  } else {
    details.addEventListener('toggle', fill);
  }
  return details;
}
