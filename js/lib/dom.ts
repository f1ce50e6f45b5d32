/** Small DOM helpers. User-written text always goes in through textContent, never as HTML. */

type Child = Node | string | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: {
    className?: string;
    title?: string;
    attrs?: Record<string, string>;
    on?: Partial<Record<keyof HTMLElementEventMap, (event: Event) => void>>;
  } = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (props.className) {
    node.className = props.className;
  }
  if (props.title) {
    node.title = props.title;
  }
  for (const [name, value] of Object.entries(props.attrs ?? {})) {
    node.setAttribute(name, value);
  }
  for (const [name, handler] of Object.entries(props.on ?? {})) {
    if (handler) {
      node.addEventListener(name, handler);
    }
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) {
      continue;
    }
    node.append(
      typeof child === 'string' ? document.createTextNode(child) : child
    );
  }
  return node;
}

/** Show an error inside the widget instead of failing silently. */
export function showError(el: HTMLElement, message: string): void {
  el.replaceChildren(h('div', { className: 'jp-Track-w-error' }, message));
}
