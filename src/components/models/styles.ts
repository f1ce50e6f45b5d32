/**
 * The Models tab's CSS, added to the page once when the plugin starts (it uses JupyterLab's
 * theme variables, so it follows the light and dark themes).
 */
export const MODELS_CSS = `
.jp-Track-models {
  padding: 6px 8px; font-size: var(--jp-ui-font-size1); overflow-y: auto; overflow-x: hidden;
  height: 100%; box-sizing: border-box;
}
.jp-Track-modelsToolbar { display: flex; gap: 6px; align-items: center; margin-bottom: 6px; }
.jp-Track-modelPicker { flex: 1 1 auto; min-width: 0; }
.jp-Track-models button { font: inherit; color: inherit; }
.jp-Track-models-error {
  border: 1px solid var(--jp-error-color1); background: var(--jp-error-color3, transparent);
  color: var(--jp-ui-font-color1); padding: 4px 6px; margin: 4px 0; border-radius: 2px;
}
.jp-Track-modelHeader h3 { margin: 6px 0 2px; font-size: var(--jp-ui-font-size2); }
.jp-Track-aliasSummary { display: flex; flex-wrap: wrap; gap: 4px; margin: 4px 0; }
.jp-Track-aliasSummaryItem, .jp-Track-aliasChip {
  border-radius: 10px; padding: 0 8px; border: 1px solid var(--jp-brand-color1);
  background: var(--jp-layout-color2); color: var(--jp-brand-color0, var(--jp-ui-font-color1));
  white-space: nowrap; line-height: 18px;
}
.jp-Track-aliasChip { cursor: pointer; }
.jp-Track-versions { list-style: none; padding: 0; margin: 4px 0 8px; }
.jp-Track-versionRow { padding: 4px 2px; border-bottom: 1px solid var(--jp-border-color2); }
.jp-Track-versionLine { display: flex; align-items: center; gap: 6px; }
.jp-Track-versionNumber { font-weight: 600; flex: 0 0 auto; }
.jp-Track-versionRun {
  flex: 1 1 auto; min-width: 0; overflow: hidden; text-overflow: ellipsis; white-space: nowrap;
}
.jp-Track-versionMetrics { display: flex; flex-wrap: wrap; gap: 2px 10px; margin-top: 2px; }
.jp-Track-versionMetrics .jp-Track-metric { white-space: nowrap; color: var(--jp-ui-font-color2); }
.jp-Track-versionAliases { display: flex; flex-wrap: wrap; gap: 4px; margin-top: 3px; }
.jp-Track-versionAliases .jp-Track-alias { position: relative; }
.jp-Track-versionActions { position: relative; flex: 0 0 auto; }
.jp-Track-versionMenu {
  border: 1px solid var(--jp-border-color1); background: var(--jp-layout-color1);
  border-radius: 2px; cursor: pointer; padding: 0 6px;
}
.jp-Track-menu {
  position: absolute; right: 0; z-index: 10; display: flex; flex-direction: column;
  background: var(--jp-layout-color1); border: 1px solid var(--jp-border-color1);
  box-shadow: var(--jp-elevation-z4); min-width: 180px;
}
.jp-Track-versionAliases .jp-Track-menu { left: 0; right: auto; }
.jp-Track-menu button {
  text-align: left; background: none; border: none; padding: 4px 10px; cursor: pointer;
  white-space: nowrap;
}
.jp-Track-menu button:hover { background: var(--jp-layout-color2); }
.jp-Track-link {
  background: none; border: none; padding: 0; cursor: pointer;
  color: var(--jp-content-link-color); text-decoration: underline;
}
.jp-Track-timeline { list-style: none; padding-left: 0; margin: 4px 0; }
.jp-Track-timeline li {
  padding: 2px 0 2px 6px; border-left: 2px solid var(--jp-border-color2);
  overflow-wrap: anywhere;
}
.jp-Track-timelineTime { color: var(--jp-ui-font-color2); }
.jp-Track-timelineActor { font-weight: 600; }
.jp-Track-unverified { color: var(--jp-warn-color1); }
`;

const STYLE_ID = 'jupyter-track-models-style';

/** Add the tab's CSS to the page (once). */
export function ensureStyles(doc: Document = document): void {
  if (doc.getElementById(STYLE_ID)) {
    return;
  }
  const style = doc.createElement('style');
  style.id = STYLE_ID;
  style.textContent = MODELS_CSS;
  doc.head.appendChild(style);
}
