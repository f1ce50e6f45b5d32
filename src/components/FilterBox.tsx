/**
 * The filter box: the store's filter grammar, applied on Enter. When the server rejects the
 * filter, the message is shown under the box and the offending position is marked in the text
 * (and the caret is moved there).
 */
import * as React from 'react';

import type { IFilterError } from '../model';

export interface IFilterBoxProps {
  /** The filter currently applied. */
  value: string;
  error: IFilterError | null;
  onApply(filter: string): void;
  /** What the box filters (runs by default; the Traces tab passes its own). */
  placeholder?: string;
  help?: string;
  label?: string;
}

export const FILTER_HELP =
  "Filter runs, e.g. metrics.accuracy > 0.9 AND params.model = 'rf'\n" +
  'Fields: metrics.*, params.*, tags.*, attributes (status, run_name, user, start_time...)\n' +
  'Operators: = != < <= > >= LIKE ILIKE IN, IS NULL; combine with AND, OR, NOT, ( )';

export function FilterBox(props: IFilterBoxProps): JSX.Element {
  const [text, setText] = React.useState(props.value);
  const input = React.useRef<HTMLInputElement>(null);

  // Follow the applied filter when it changes from outside (e.g. a command).
  React.useEffect(() => setText(props.value), [props.value]);

  // Put the caret where the server says the filter is wrong.
  React.useEffect(() => {
    const position = props.error?.position;
    if (input.current && typeof position === 'number') {
      input.current.setSelectionRange(position, position + 1);
    }
  }, [props.error]);

  const apply = (): void => props.onApply(text);
  const error = props.error;
  const applied = props.value;
  const dirty = (text.trim() ? text : '') !== applied;

  return (
    <div className="jp-Track-filter">
      <div className="jp-Track-filter-row">
        <input
          ref={input}
          className={
            'jp-Track-filter-input jp-mod-styled' +
            (error ? ' jp-mod-error' : '')
          }
          type="text"
          spellCheck={false}
          placeholder={
            props.placeholder ??
            "Filter: metrics.acc > 0.9 AND params.model = 'rf'"
          }
          title={props.help ?? FILTER_HELP}
          aria-label={props.label ?? 'Filter runs'}
          aria-invalid={!!error}
          value={text}
          onChange={event => setText(event.target.value)}
          onKeyDown={event => {
            if (event.key === 'Enter') {
              apply();
            } else if (event.key === 'Escape') {
              setText('');
              props.onApply('');
            }
          }}
        />
        <button
          className={
            'jp-Track-button' + (dirty ? ' jp-Track-button-accept' : '')
          }
          title="Apply the filter (Enter)"
          onClick={apply}
        >
          Apply
        </button>
        {applied || text ? (
          <button
            className="jp-Track-button"
            title="Clear the filter (Escape)"
            onClick={() => {
              setText('');
              props.onApply('');
            }}
          >
            Clear
          </button>
        ) : null}
      </div>
      {error ? <FilterErrorView text={applied} error={error} /> : null}
    </div>
  );
}

/** The server's message, and the filter with the position marked. */
export function FilterErrorView(props: {
  text: string;
  error: IFilterError;
}): JSX.Element {
  const { text, error } = props;
  const position = error.position;
  // The server's message may end with its own caret drawing; the UI draws its own.
  const message = error.message.split('\n')[0];
  return (
    <div className="jp-Track-filter-error" role="alert">
      <div className="jp-Track-filter-message">{message}</div>
      {typeof position === 'number' && text ? (
        <div
          className="jp-Track-filter-where"
          data-position={position}
          aria-label={`Error at position ${position}`}
        >
          <code>
            {text.slice(0, position)}
            <mark className="jp-Track-filter-mark">
              {text.slice(position, position + 1) || ' '}
            </mark>
            {text.slice(position + 1)}
          </code>
          <div className="jp-Track-filter-caret">
            <code>{' '.repeat(position)}^</code>
            {error.expected ? <span> expected {error.expected}</span> : null}
          </div>
        </div>
      ) : null}
    </div>
  );
}
