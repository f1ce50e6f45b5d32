/**
 * The slice of anywidget's front-end API these widgets use (anywidget >= 0.9).
 *
 * Written out here instead of depending on `@anywidget/types`, so the widget bundles need
 * nothing but vega at build time.
 */

export type Callback = (...args: unknown[]) => void;

export interface AnyModel<T> {
  get<K extends keyof T & string>(key: K): T[K];
  set<K extends keyof T & string>(key: K, value: T[K]): void;
  save_changes(): void;
  on(event: string, callback: Callback): void;
  off(event?: string | null, callback?: Callback | null): void;
  send(content: Record<string, unknown>): void;
  widget_manager: {
    get_model(modelId: string): Promise<unknown>;
  };
}

export interface RenderProps<T> {
  model: AnyModel<T>;
  el: HTMLElement;
}

export interface InitializeProps<T> {
  model: AnyModel<T>;
}

export type Cleanup = () => void;

export interface WidgetModule<T> {
  initialize?(
    props: InitializeProps<T>
  ): void | Cleanup | Promise<void | Cleanup>;
  render?(props: RenderProps<T>): void | Cleanup | Promise<void | Cleanup>;
}
