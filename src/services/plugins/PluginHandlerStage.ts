/**
 * `sysflowreader` with a plugin handler (`handler` + `handlerlibpath`, data-model.md §2.3): the reader
 * keeps the entity cache and calls the handler for each SysFlow record in order — entity records only
 * if the handler is entity-enabled, K8s events always, NetworkEvent and ProcessFlow never — with the
 * record's context (header, process, ancestry, container, pod, files). The handler writes its own
 * outputs; a returned promise is awaited before the next record.
 */
import { Effect, Stream } from "effect"
import type { PipelineConfigError } from "../../domain/errors.js"
import type { Handler, HandlerContext } from "../../domain/plugins.js"
import type { File, OID, SysFlowDatum } from "../../domain/sysflow.js"
import { type Channel, chunks } from "../kernel/Channel.js"
import type { RunnableStage } from "../kernel/Runner.js"
import { EntityCache } from "../reader/EntityCache.js"
import { trimEntity } from "../reader/Flattener.js"
import { pluginChannel } from "./PluginChannelAdapter.js"
import { pluginCall } from "./PluginProcessorStage.js"

const noContext: HandlerContext = {
  header: undefined,
  container: undefined,
  pod: undefined,
  process: undefined,
  ptree: undefined,
  file: undefined,
  newFile: undefined
}

/** The context of an event or flow: its process (with ancestry, container, pod) and files. */
const eventContext = (cache: EntityCache, oid: OID, file: File | undefined, newFile: File | undefined): HandlerContext => {
  const process = cache.process(oid)
  const container = process === undefined ? undefined : cache.container(process.containerId)
  return {
    header: cache.header,
    process,
    ptree: process === undefined ? undefined : cache.ptree(oid),
    container,
    pod: container === undefined ? undefined : cache.pod(container.podId),
    file,
    newFile
  }
}

/** Calls the handler method for one datum (plain code; returns a promise only if the handler did). */
const dispatch = (h: Handler, cache: EntityCache, d: SysFlowDatum, entities: boolean): void | Promise<void> => {
  switch (d.code) {
    case 0: {
      const previous = { ...noContext, header: cache.header }
      cache.setHeader(d.rec)
      return entities ? h.handleHeader?.(previous, d.rec) : undefined
    }
    case 1:
      trimEntity(d)
      cache.putContainer(d.rec)
      return entities ? h.handleContainer?.({ ...noContext, header: cache.header }, d.rec) : undefined
    case 10:
      trimEntity(d)
      cache.putPod(d.rec)
      return entities ? h.handlePod?.({ ...noContext, header: cache.header }, d.rec) : undefined
    case 11:
      return h.handleK8sEvt?.({ ...noContext, header: cache.header }, d.rec)
    case 2:
      trimEntity(d)
      cache.putProcess(d.rec)
      return entities ? h.handleProcess?.(eventContext(cache, d.rec.oid, undefined, undefined), d.rec) : undefined
    case 3: {
      trimEntity(d)
      cache.putFile(d.rec)
      if (!entities) return undefined
      const container = cache.container(d.rec.containerId)
      return h.handleFile?.(
        { ...noContext, header: cache.header, file: d.rec, container, pod: container === undefined ? undefined : cache.pod(container.podId) },
        d.rec
      )
    }
    case 4:
      return h.handleProcEvt?.(eventContext(cache, d.rec.procOID, undefined, undefined), d.rec)
    case 5:
      return h.handleNetFlow?.(eventContext(cache, d.rec.procOID, undefined, undefined), d.rec)
    case 6:
      return h.handleFileFlow?.(eventContext(cache, d.rec.procOID, cache.file(d.rec.fileOID), undefined), d.rec)
    case 7:
      return h.handleFileEvt?.(eventContext(cache, d.rec.procOID, cache.file(d.rec.fileOID), cache.file(d.rec.newFileOID)), d.rec)
    default:
      // NetworkEvent and ProcessFlow are dropped, as the reference does.
      return undefined
  }
}

export const makePluginHandlerStage = (
  name: string,
  handler: Handler,
  attrs: Readonly<Record<string, unknown>>,
  /** The reader's input: the graph checker matched it with `sysflowchan`. */
  input: Channel<SysFlowDatum>,
  outputs: ReadonlyArray<Channel<unknown>>
): Effect.Effect<RunnableStage<PipelineConfigError>, PipelineConfigError> =>
  Effect.gen(function* () {
    yield* pluginCall(name, "init", () => handler.init(attrs))
    handler.setOutChan(outputs.map(pluginChannel))
    const entities = handler.isEntityEnabled()
    const cache = new EntityCache()
    const onChunk = (chunk: ReadonlyArray<SysFlowDatum>) =>
      pluginCall(name, "handling a record", async () => {
        for (const d of chunk) {
          const pending = dispatch(handler, cache, d, entities)
          if (pending !== undefined) await pending
        }
      })
    return {
      name: "sysflowreader",
      input,
      outputs,
      run: Stream.runForEach(chunks(input), onChunk).pipe(
        Effect.ensuring(pluginCall(name, "cleanup", () => handler.cleanup()).pipe(Effect.catchAll(() => Effect.void)))
      )
    }
  })
