// Shapes of the API replies, as CONTRACT.md and README "HTTP API" give them.

export interface Session {
  authenticated: boolean;
  user?: string;
  role?: 'admin' | 'viewer';
  csrf?: string;
  setup_required: boolean;
}

export interface MeterValue {
  value: number;
  unit: string;
  measured: string | null;
  received: string | null;
  stale: boolean;
}

export interface Meter {
  protocol: string;
  address: string | null;
  time: string | null;
  received: string | null;
  stale: boolean;
  legal: boolean;
  power_w: number | null;
  import_kwh: number | null;
  export_kwh: number | null;
  import_kwh_tariffs: (number | null)[] | null;
  export_kwh_tariffs: (number | null)[] | null;
  voltage_v: (number | null)[] | null;
  current_a: (number | null)[] | null;
  frequency_hz: number | null;
  power_factor: number | null;
  reactive_power_var?: number | null;
  apparent_power_va?: number | null;
  relay: 'closed' | 'open' | 'unknown';
  link_up: boolean;
  unavailable?: string[];
  values?: Record<string, MeterValue>;
}

export interface Condition {
  code: string;
  message: string;
  since: string;
  /** informational: what is off by configuration or hardware; not "degraded" */
  info?: boolean;
}

export interface Health {
  status: 'ok' | 'degraded';
  conditions: Condition[] | null;
}

export interface LogEvent {
  time: string;
  kind: string;
  subject: string;
  details?: Record<string, string> | null;
}

export interface SeriesPoint {
  t: string;
  min: number;
  max: number;
  mean: number;
  first: number;
  last: number;
  n: number;
}

export interface Series {
  device: string;
  quantity: string;
  unit: string;
  tier: string;
  legal: boolean;
  from: string;
  to: string;
  points: SeriesPoint[] | null;
}

export interface Interval {
  start: string;
  end: string;
  value: number | null;
  estimated: boolean;
  missing: boolean;
  notes?: string[] | null;
}

export interface Consumption {
  unit: string;
  intervals: Interval[] | null;
}

export interface DeviceValue {
  quantity: string;
  value: number | null;
  unit: string;
  measured: string | null;
  legal: boolean;
}

export interface Device {
  id: string;
  name: string;
  kind: string;
  transport: string;
  state: 'online' | 'offline' | 'unknown';
  legal: boolean;
  last_seen: string | null;
  fresh: boolean;
  values: DeviceValue[] | null;
  /** Devices in the registry (controllable): what they can do. */
  capabilities?: string[];
}

export interface PriceSlot {
  start: string;
  end: string;
  import: number;
  export: number;
  band: string;
}

export interface Prices {
  currency: string;
  slots: PriceSlot[] | null;
}

export interface CostBand {
  band: string;
  kwh: number;
  cost: number;
}

export interface CostStep {
  start: string;
  end: string;
  import_kwh: number;
  export_kwh: number;
  import_cost: number;
  export_credit: number;
  fixed: number;
  total: number;
  bands: CostBand[] | null;
}

export interface Tier {
  period: string;
  start: string;
  end: string;
  consumed_kwh: number;
  step: number;
  next_step_kwh: number | null;
}

export interface Costs {
  currency: string;
  /** The device priced; absent for the household. */
  device?: string;
  steps: CostStep[] | null;
  tier: Tier | null;
}

export interface DrEvent {
  id: string;
  program: string;
  status: 'pending' | 'active' | 'completed' | 'cancelled' | 'opted_out';
  start: string | null;
  end: string | null;
  intervals?: unknown[] | null;
  limit_w: number | null;
  level: number | null;
  opted_out: boolean;
  actionable?: boolean;
}

export interface User {
  name: string;
  role: 'admin' | 'viewer';
  created: string;
  last_login: string | null;
}

export interface Token {
  id: string;
  name: string;
  scope: 'read' | 'control';
  created: string;
  token?: string;
}

export interface TariffDoc {
  configured: boolean;
  yaml: string;
  currency?: string;
  timezone?: string;
}

export interface TariffProblem {
  key: string;
  line: number;
  message: string;
}

export interface SystemInfo {
  version: string;
  metering: {
    protocol: string;
    port: string;
    baud: number;
    address: string;
    interval: string;
    time_sync: boolean;
    link_up: boolean;
  };
  storage: { path: string; size_bytes: number };
  tls: boolean;
}

/** GET /api/v1/ble/seen: one BLE device heard nearby (admins only). */
export interface BLESeen {
  mac: string;
  name: string;
  rssi: number;
  last_seen: string;
  connectable: boolean;
  /** What the gateway understands of it: bthome, bthome-encrypted, ess, appliance. */
  advertises: string[] | null;
  quantities: string[] | null;
  kind: string;
  adopted: boolean;
  device?: string;
}
