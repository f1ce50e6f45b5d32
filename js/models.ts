/**
 * jt.registry(): registered models, their versions and aliases.
 *
 * Read-only unless the kernel made it editable; then alias changes are sent to the kernel as
 * messages (`set_alias`, `delete_alias`, with the version the alias pointed to as seen here, so
 * a concurrent move is reported instead of overwritten). The kernel applies them through the
 * registry's audited API and answers by updating `models`, `audit` and `message`.
 */

import { formatShortTime, MISSING } from '../src/format';
import { h } from './lib/dom';
import type { AnyModel, Cleanup, WidgetModule } from './lib/types';

/** The REST API's model-detail payload (jupyter_track/payloads.py), as the kernel sends it. */
interface Version {
  version: number;
  run_id: string | null;
  status: string;
  creation_timestamp: number;
  user_id: string | null;
  description: string | null;
  aliases: string[];
  run: { run_name: string | null; status: string } | null;
}

interface Model {
  model: {
    name: string;
    description: string | null;
    aliases: Record<string, number>;
  };
  versions: Version[];
}

/** A registry audit entry (`AuditEntry.to_dict()`). */
interface AuditRow {
  model: string;
  timestamp: number;
  actor: string;
  actor_verified: boolean;
  action: string;
  alias: string | null;
  old_value: string | null;
  new_value: string | null;
}

interface ModelsTraits {
  models: Model[];
  audit: AuditRow[];
  editable: boolean;
  message: { kind: string; text: string } | null;
}

function send(
  model: AnyModel<ModelsTraits>,
  content: Record<string, unknown>
): void {
  model.send(content);
}

function drawModel(model: AnyModel<ModelsTraits>, detail: Model): HTMLElement {
  const editable = model.get('editable');
  const item = { ...detail.model, versions: detail.versions };
  const chips = Object.entries(item.aliases).map(([alias, version]) => {
    const chip = h(
      'span',
      { className: 'jp-Track-w-alias', attrs: { 'data-alias': alias } },
      `@${alias} → v${version}`
    );
    if (editable) {
      chip.append(
        h(
          'button',
          {
            title: `remove alias ${alias}`,
            attrs: { 'aria-label': `remove alias ${alias}` },
            on: {
              click: () =>
                send(model, {
                  type: 'delete_alias',
                  name: item.name,
                  alias,
                  expected: version
                })
            }
          },
          '×'
        )
      );
    }
    return chip;
  });
  const head = h(
    'tr',
    {},
    ...[
      'version',
      'created',
      'run',
      'by',
      'aliases',
      ...(editable ? ['set alias'] : [])
    ].map(t => h('th', {}, t))
  );
  const body = item.versions.map(version => {
    const cells = [
      h('td', {}, `v${version.version}`),
      h('td', {}, formatShortTime(version.creation_timestamp)),
      h(
        'td',
        { title: version.run_id ?? '' },
        version.run?.run_name ??
          h('code', {}, (version.run_id ?? MISSING).slice(0, 8))
      ),
      h('td', {}, version.user_id ?? MISSING),
      h('td', {}, version.aliases.map(a => `@${a}`).join(' '))
    ];
    if (editable) {
      const input = h('input', {
        attrs: {
          type: 'text',
          placeholder: 'champion',
          'aria-label': `alias for version ${version.version}`
        }
      });
      const submit = (): void => {
        const alias = input.value.trim();
        if (!alias) {
          return;
        }
        const expected = alias in item.aliases ? item.aliases[alias] : null;
        send(model, {
          type: 'set_alias',
          name: item.name,
          alias,
          version: version.version,
          expected
        });
      };
      input.addEventListener('keydown', event => {
        if (event.key === 'Enter') {
          submit();
        }
      });
      cells.push(
        h(
          'td',
          { className: 'jp-Track-w-setcell' },
          h(
            'span',
            { className: 'jp-Track-w-aliasform' },
            input,
            h('button', { on: { click: submit } }, 'Set')
          )
        )
      );
    }
    return h(
      'tr',
      { attrs: { 'data-version': String(version.version) } },
      ...cells
    );
  });
  return h(
    'div',
    { className: 'jp-Track-w-model', attrs: { 'data-model': item.name } },
    h('h4', {}, item.name, ' ', ...chips),
    item.description
      ? h('div', { className: 'jp-Track-w-muted' }, item.description)
      : null,
    h(
      'div',
      { className: 'jp-Track-w-tablewrap' },
      h('table', {}, h('thead', {}, head), h('tbody', {}, ...body))
    )
  );
}

const models: WidgetModule<ModelsTraits> = {
  render({ model, el }): Cleanup {
    el.classList.add('jp-Track-w', 'jp-Track-models');
    const draw = (): void => {
      const items = model.get('models');
      const message = model.get('message');
      const toolbar = h(
        'div',
        { className: 'jp-Track-w-toolbar' },
        h(
          'span',
          { className: 'jp-Track-w-muted' },
          `${items.length} registered model${items.length === 1 ? '' : 's'} · ${model.get('editable') ? 'editable: alias changes are audited' : 'read-only'}`
        ),
        h(
          'button',
          { on: { click: () => send(model, { type: 'refresh' }) } },
          'Refresh'
        )
      );
      const parts: (HTMLElement | null)[] = [toolbar];
      if (message) {
        parts.push(
          h(
            'div',
            {
              className:
                message.kind === 'error'
                  ? 'jp-Track-w-error'
                  : 'jp-Track-w-note',
              attrs: { role: 'status' }
            },
            message.text
          )
        );
      }
      if (!items.length) {
        parts.push(
          h(
            'div',
            { className: 'jp-Track-w-muted' },
            'No registered models yet (jt.register_model or jt.log_model(..., registered_model_name=...)).'
          )
        );
      }
      parts.push(...items.map(item => drawModel(model, item)));
      const audit = model.get('audit');
      if (audit.length) {
        const rows = audit.map(a =>
          h(
            'tr',
            {},
            h('td', {}, formatShortTime(a.timestamp)),
            h('td', {}, a.actor + (a.actor_verified ? '' : ' (unverified)')),
            h('td', {}, a.model),
            h('td', {}, a.action.replace('_', ' ')),
            h('td', {}, a.alias ? `@${a.alias}` : ''),
            h('td', {}, `${a.old_value ?? MISSING} → ${a.new_value ?? MISSING}`)
          )
        );
        parts.push(
          h(
            'details',
            {},
            h('summary', {}, `Recent alias changes (${audit.length})`),
            h('table', {}, h('tbody', {}, ...rows))
          )
        );
      }
      el.replaceChildren(...parts.filter((p): p is HTMLElement => p !== null));
    };
    draw();
    const events = 'change:models change:audit change:editable change:message';
    model.on(events, draw);
    return () => model.off(events, draw);
  }
};

export default models;
