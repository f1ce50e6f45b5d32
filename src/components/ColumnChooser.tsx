/**
 * The column chooser: which params, metrics and tags show as columns.
 */
import * as React from 'react';

import type { IKeys } from '../api';

export interface IColumnChooserProps {
  keys: IKeys;
  /** Chosen column ids (`params.lr`, `metrics.acc`, `tags.team`). */
  chosen: readonly string[];
  onChange(ids: string[]): void;
}

const GROUPS: { entity: keyof IKeys; label: string }[] = [
  { entity: 'metrics', label: 'Metrics' },
  { entity: 'params', label: 'Params' },
  { entity: 'tags', label: 'Tags' }
];

export function ColumnChooser(props: IColumnChooserProps): JSX.Element {
  const [open, setOpen] = React.useState(false);
  const [query, setQuery] = React.useState('');
  const node = React.useRef<HTMLDivElement>(null);

  React.useEffect(() => {
    if (!open) {
      return;
    }
    const close = (event: MouseEvent): void => {
      if (node.current && !node.current.contains(event.target as Node)) {
        setOpen(false);
      }
    };
    const escape = (event: KeyboardEvent): void => {
      if (event.key === 'Escape') {
        setOpen(false);
      }
    };
    document.addEventListener('mousedown', close, true);
    document.addEventListener('keydown', escape, true);
    return () => {
      document.removeEventListener('mousedown', close, true);
      document.removeEventListener('keydown', escape, true);
    };
  }, [open]);

  const chosen = new Set(props.chosen);
  const toggle = (id: string): void => {
    const next = chosen.has(id)
      ? props.chosen.filter(c => c !== id)
      : [...props.chosen, id];
    props.onChange(next);
  };
  const q = query.trim().toLowerCase();

  return (
    <div className="jp-Track-columns" ref={node}>
      <button
        className="jp-Track-button"
        aria-haspopup="true"
        aria-expanded={open}
        title="Choose the param, metric and tag columns"
        onClick={() => setOpen(!open)}
      >
        Columns ({props.chosen.length})
      </button>
      {open ? (
        <div
          className="jp-Track-columns-popup"
          role="dialog"
          aria-label="Columns"
        >
          <input
            className="jp-mod-styled jp-Track-columns-search"
            placeholder="Search keys"
            aria-label="Search keys"
            value={query}
            autoFocus
            onChange={event => setQuery(event.target.value)}
          />
          {GROUPS.map(group => {
            const keys = props.keys[group.entity].filter(
              k => !q || k.toLowerCase().includes(q)
            );
            return (
              <fieldset key={group.entity} className="jp-Track-columns-group">
                <legend>
                  {group.label} ({props.keys[group.entity].length})
                </legend>
                {keys.length === 0 ? (
                  <div className="jp-Track-muted">none</div>
                ) : (
                  keys.map(key => {
                    const id = `${group.entity}.${key}`;
                    return (
                      <label
                        key={id}
                        className="jp-Track-columns-item"
                        title={id}
                      >
                        <input
                          type="checkbox"
                          checked={chosen.has(id)}
                          data-column={id}
                          onChange={() => toggle(id)}
                        />
                        <span>{key}</span>
                      </label>
                    );
                  })
                )}
              </fieldset>
            );
          })}
        </div>
      ) : null}
    </div>
  );
}
