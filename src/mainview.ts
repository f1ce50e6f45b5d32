/**
 * "Open in main area": the Track panel's Runs, Run and Compare views as full-width tabs of the
 * main area. They render the same components on the same model as the sidebar, so the
 * selection, the open run and the comparison are shared; links inside a main-area view open
 * the other views in the main area too.
 */
import { MainAreaWidget } from '@jupyterlab/apputils';
import { LabIcon } from '@jupyterlab/ui-components';
import { Message } from '@lumino/messaging';

import type { TrackModel } from './model';
import {
  createTrackView,
  IPanelServices,
  ITrackViewNav,
  TrackViewKind,
  VIEW_LABELS
} from './panel';

/** The id of the main-area tab of a view (one per view). */
export function mainViewId(kind: TrackViewKind): string {
  return `jp-Track-main-${kind}`;
}

/** One view of the panel in the main area; the model polls while it is visible. */
export class TrackMainView extends MainAreaWidget {
  constructor(
    readonly kind: TrackViewKind,
    private _model: TrackModel,
    services: IPanelServices,
    nav: ITrackViewNav,
    icon: LabIcon
  ) {
    const content = createTrackView(kind, _model, services, nav);
    content.addClass('jp-Track-panel');
    content.addClass('jp-Track-main');
    content.addClass('jp-Track-tabcontent');
    content.node.dataset.trackView = kind;
    super({ content });
    this.id = mainViewId(kind);
    this.addClass('jp-Track-mainArea');
    this.title.icon = icon;
    this.title.closable = true;
    this.title.caption = `Track: ${VIEW_LABELS[kind]} (the panel's view, full width)`;
    this._updateLabel();
    if (kind === 'run') {
      _model.detailChanged.connect(this._updateLabel, this);
    }
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._model.detailChanged.disconnect(this._updateLabel, this);
    this._model.setVisible(false, this.id);
    super.dispose();
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    this._model.setVisible(true, this.id);
  }

  protected onAfterHide(msg: Message): void {
    super.onAfterHide(msg);
    this._model.setVisible(false, this.id);
  }

  protected onAfterAttach(msg: Message): void {
    super.onAfterAttach(msg);
    this._model.setVisible(this.isVisible, this.id);
  }

  protected onBeforeDetach(msg: Message): void {
    this._model.setVisible(false, this.id);
    super.onBeforeDetach(msg);
  }

  private _updateLabel(): void {
    const run = this.kind === 'run' ? this._model.detail.value : null;
    const name = run ? run.run_name || run.run_id.slice(0, 8) : '';
    this.title.label = `Track: ${VIEW_LABELS[this.kind]}${name ? ' ' + name : ''}`;
  }
}
