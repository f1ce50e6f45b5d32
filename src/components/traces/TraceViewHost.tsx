/**
 * React hosts for the one trace view (`src/traceview/view.ts`, plain DOM): the sidebar mounts
 * the same class the notebook widget does.
 */
import * as React from 'react';

import type { ITraceDetail } from '../../traceview/model';
import { TraceComparison, TraceView } from '../../traceview/view';

export function TraceViewHost(props: {
  trace: ITraceDetail;
  onOpenRun?: (runId: string) => void;
}): JSX.Element {
  const host = React.useRef<HTMLDivElement>(null);
  const view = React.useRef<TraceView | null>(null);
  React.useEffect(() => {
    const v = new TraceView({ onOpenRun: props.onOpenRun });
    view.current = v;
    host.current?.append(v.node);
    return () => v.dispose();
  }, []);
  React.useEffect(() => {
    view.current?.setTrace(props.trace);
  }, [props.trace]);
  return <div ref={host} className="jp-Track-traceview-host" />;
}

export function TraceComparisonHost(props: {
  traces: [ITraceDetail, ITraceDetail];
  onOpenRun?: (runId: string) => void;
}): JSX.Element {
  const host = React.useRef<HTMLDivElement>(null);
  const view = React.useRef<TraceComparison | null>(null);
  React.useEffect(() => {
    const v = new TraceComparison({ onOpenRun: props.onOpenRun });
    view.current = v;
    host.current?.append(v.node);
    return () => v.dispose();
  }, []);
  React.useEffect(() => {
    view.current?.setTraces(props.traces[0], props.traces[1]);
  }, [props.traces]);
  return <div ref={host} className="jp-Track-traceview-host" />;
}
