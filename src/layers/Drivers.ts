/**
 * The drivers a pipeline can name (pipeline.md §10): the application's driver registry. A new built-in
 * driver is registered here; plugin drivers come from `-driverdir` through the plugin cache.
 */
import { Effect } from "effect"
import { DriverError } from "../domain/errors.js"
import { fileDriver } from "../services/drivers/FileDriver.js"
import { natsDriver } from "../services/drivers/NatsDriver.js"
import { socketDriver } from "../services/drivers/SocketDriver.js"
import { type DriverDefinition, DriverRegistry } from "../services/kernel/DriverRegistry.js"

/** The reference's OTel drivers: known to the graph checker, refused at init. */
const otelDriver = (name: string): DriverDefinition => ({
  spec: { name, emits: "otelchan", output: "root" },
  init: () => Effect.fail(new DriverError({ reason: "Init", driver: name, detail: `driver '${name}' (OTel backend) is not supported by sfprocessor` }))
})

export const builtinDrivers: ReadonlyArray<DriverDefinition> = [fileDriver, socketDriver, natsDriver, otelDriver("otelfile"), otelDriver("otelkafka")]

export const DriversLive = DriverRegistry.layer(builtinDrivers)
