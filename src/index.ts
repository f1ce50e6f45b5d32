import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';
import { LabIcon } from '@jupyterlab/ui-components';
import { Widget } from '@lumino/widgets';

const TRACK_ICON_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" width="16" viewBox="0 0 24 24"><path class="jp-icon3" fill="#616161" d="M3 17h4v4H3zm7-6h4v10h-4zm7-8h4v18h-4z"/></svg>';

export const trackIcon = new LabIcon({
  name: 'jupyter-track:icon',
  svgstr: TRACK_ICON_SVG
});

const plugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-track:plugin',
  description: 'Experiment tracking sidebar.',
  autoStart: true,
  activate: (app: JupyterFrontEnd) => {
    const widget = new Widget();
    widget.id = 'jupyter-track-sidebar';
    widget.addClass('jp-Track-panel');
    widget.title.icon = trackIcon;
    widget.title.caption = 'Track';
    const status = document.createElement('p');
    status.textContent = 'Track';
    widget.node.appendChild(status);
    app.shell.add(widget, 'left', { rank: 900 });

    const settings = ServerConnection.makeSettings();
    const url = URLExt.join(settings.baseUrl, 'jupyter-track', 'api', 'info');
    ServerConnection.makeRequest(url, {}, settings)
      .then(async response => {
        const info = await response.json();
        status.textContent = `Track ${info.version}: ${info.store}`;
      })
      .catch(reason => {
        status.textContent = `Track server extension unavailable: ${reason}`;
      });
  }
};

export default plugin;
