/**
 * Optional OpenTelemetry traces: when OTEL_EXPORTER_OTLP_ENDPOINT is set,
 * every call PayBridge makes to Stripe becomes a span (joining the caller's
 * trace when it sends a W3C `traceparent`), exported in batches over
 * OTLP/HTTP JSON to `<endpoint>/v1/traces`. Off, it costs nothing.
 */
import { randomBytes } from 'node:crypto';

export interface SpanInput {
  name: string;
  startMs: number;
  endMs: number;
  traceparent?: string;
  attributes: Record<string, string | number | null | undefined>;
  error?: boolean;
}

const hex = (bytes: number) => randomBytes(bytes).toString('hex');
const nanos = (ms: number) => String(BigInt(Math.round(ms * 1000)) * 1000n);

export class Tracer {
  private spans: object[] = [];
  private timer?: NodeJS.Timeout;

  constructor(private readonly endpoint: string | undefined, private readonly service = 'paybridge-gateway') {
    if (endpoint) {
      this.timer = setInterval(() => void this.flush(), 1000);
      this.timer.unref();
    }
  }

  get enabled(): boolean {
    return !!this.endpoint;
  }

  record(s: SpanInput): void {
    if (!this.endpoint) return;
    const parent = /^00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$/.exec(s.traceparent ?? '');
    this.spans.push({
      traceId: parent?.[1] ?? hex(16),
      spanId: hex(8),
      ...(parent ? { parentSpanId: parent[2] } : {}),
      name: s.name,
      kind: 3, // CLIENT: a call out to Stripe
      startTimeUnixNano: nanos(s.startMs),
      endTimeUnixNano: nanos(s.endMs),
      attributes: Object.entries(s.attributes).filter(([, v]) => v !== undefined && v !== null)
        .map(([key, v]) => ({ key, value: typeof v === 'number' ? { intValue: String(v) } : { stringValue: String(v) } })),
      status: { code: s.error ? 2 : 1 },
    });
    if (this.spans.length >= 512) void this.flush();
  }

  async flush(): Promise<void> {
    if (!this.endpoint || this.spans.length === 0) return;
    const spans = this.spans.splice(0);
    const body = {
      resourceSpans: [{
        resource: { attributes: [{ key: 'service.name', value: { stringValue: this.service } }] },
        scopeSpans: [{ scope: { name: 'paybridge' }, spans }],
      }],
    };
    try {
      await fetch(`${this.endpoint.replace(/\/$/, '')}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(5000) });
    } catch {
      // A collector that is down must not affect payments; its spans are dropped.
    }
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}
