/**
 * The processor's health (`/healthz`): every component — a pipeline stage, a transport, a driver —
 * reports whether it works, directly (`set`) or through a probe asked on each check (a transport's
 * connection state). Healthy only while every component is.
 */
import { Context, Effect, Layer, Option } from "effect"

export interface ComponentHealth {
  readonly name: string
  readonly ok: boolean
  readonly detail: string
}

export interface HealthRegistry {
  readonly set: (component: string, ok: boolean, detail?: string) => void
  readonly probe: (component: string, check: () => { ok: boolean; detail: string }) => void
  readonly report: () => { readonly ok: boolean; readonly components: ReadonlyArray<ComponentHealth> }
}

export const makeHealthRegistry = (): HealthRegistry => {
  const states = new Map<string, { ok: boolean; detail: string }>()
  const probes = new Map<string, () => { ok: boolean; detail: string }>()
  return {
    set: (component, ok, detail = ok ? "ok" : "failed") => void states.set(component, { ok, detail }),
    probe: (component, check) => void probes.set(component, check),
    report: () => {
      const components: ComponentHealth[] = []
      for (const [name, s] of states) components.push({ name, ...s })
      for (const [name, check] of probes) components.push({ name, ...check() })
      return { ok: components.every((c) => c.ok), components }
    }
  }
}

export class Health extends Context.Tag("sfprocessor/Health")<Health, HealthRegistry>() {
  static readonly Live = Layer.sync(Health, makeHealthRegistry)
}

/** Runs `f` with the health registry when one is provided (tests and library use may have none). */
export const withHealth = (f: (h: HealthRegistry) => void): Effect.Effect<void> =>
  Effect.map(Effect.serviceOption(Health), (h) => {
    if (Option.isSome(h)) f(h.value)
  })
