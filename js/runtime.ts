/**
 * The vega runtime widget: vega, vega-lite and vega-embed, bundled (nothing loads from a CDN).
 * It renders nothing; chart widgets find it through `lib/vega.ts`.
 */

import embed, { version as embedVersion } from 'vega-embed';
import { changeset, version as vegaVersion } from 'vega';
import { version as vegaLiteVersion } from 'vega-lite';
import { provideRuntime } from './lib/vega';
import type { WidgetModule } from './lib/types';

const runtime: WidgetModule<Record<string, never>> = {
  initialize() {
    provideRuntime({
      embed,
      changeset,
      versions: {
        vega: vegaVersion,
        'vega-lite': vegaLiteVersion,
        'vega-embed': embedVersion
      }
    });
  }
};

export default runtime;
