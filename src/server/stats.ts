// Counters kept where the work happens and read by /varz, /connz and /metrics.
export class TrafficStats {
  inMsgs = 0;
  inBytes = 0;
  outMsgs = 0;
  outBytes = 0;
}

export class ServerStats extends TrafficStats {
  totalConnections = 0;
  slowConsumers = 0;
  staleConnections = 0;
}
