/**
 * Source code, highlighted by a function the plugin passes in (JupyterLab's CodeMirror
 * language registry, so the colours follow the theme). Without one it stays plain text.
 */
import * as React from 'react';

export type Highlighter = (code: string, el: HTMLElement) => Promise<void>;

export interface IHighlightedProps {
  code: string;
  highlight?: Highlighter | null;
}

export function Highlighted(props: IHighlightedProps): JSX.Element {
  const node = React.useRef<HTMLElement>(null);
  React.useEffect(() => {
    const el = node.current;
    if (!el) {
      return;
    }
    el.textContent = props.code;
    if (props.highlight) {
      const target = document.createElement('code');
      props
        .highlight(props.code, target)
        .then(() => {
          if (node.current === el) {
            el.replaceChildren(...Array.from(target.childNodes));
          }
        })
        .catch(() => undefined);
    }
  }, [props.code, props.highlight]);
  return (
    <pre className="jp-Track-source cm-s-jupyter">
      <code ref={node} />
    </pre>
  );
}
