// `require` of JSON files is resolved by the bundler (rspack) at build time.
declare function require(id: string): unknown;

// vega-embed's types are only reachable through package "exports", which this project's
// `moduleResolution: node` does not read; the sidebar needs only its default export.
declare module 'vega-embed' {
  const embed: (
    el: HTMLElement,
    spec: Record<string, unknown>,
    options?: Record<string, unknown>
  ) => Promise<{ finalize(): void }>;
  export default embed;
}
