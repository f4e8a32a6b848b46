/** What the fan-out has done since start; read by tests, benchmarks and (later) metrics. */
export class FanOutCounters {
  /** Events taken from the bus (once per room event, whatever the number of subscribers). */
  events = 0;
  /** Renders (GraphQL executions) for grouped live delivery: one per distinct group per event. */
  groupRenders = 0;
  /** Frames written to subscribers by grouped live delivery. */
  groupedDeliveries = 0;
  /** Events delivered one subscriber at a time (replay, gap fill, ungrouped sinks). */
  singleDeliveries = 0;
  /** Executions of events of `@sharedEvents` subscriptions (presence): one per event object and render key. */
  sharedEventRenders = 0;
  /** Events of `@sharedEvents` subscriptions delivered through a shared render. */
  sharedEventDeliveries = 0;
  /** Subscribers closed because their socket buffer passed the limit. */
  slowConsumersDropped = 0;
}
