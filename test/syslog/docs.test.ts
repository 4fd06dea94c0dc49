/**
 * The examples of docs/syslog.md run as written, against a real rsyslogd started by the examples
 * themselves: only `/tmp/sfsyslog` and the port numbers (10514, 6514) are swapped for the test's. The
 * shell blocks run with `sfprocessor` on the PATH, in a directory that has the repository's `resources`.
 *
 * Skipped when rsyslogd is not installed, unless SF_REQUIRE_RSYSLOG=1 (CI), which makes that a failure.
 */
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { binPath, projectRoot, tempDir } from "../support/cli.js"
import { freePort, rsyslogAvailable, rsyslogdPath } from "../support/rsyslog.js"
import { sleep } from "./e2e.js"

const doc = fs.readFileSync(path.join(projectRoot, "docs", "syslog.md"), "utf8")

/** The fenced blocks of a language, dedented (blocks inside list items are indented). */
const blocks = (lang: string): string[] =>
  [...doc.matchAll(/^( *)```(\w*)\n([\s\S]*?)^\1```/gm)]
    .filter((m) => m[2] === lang)
    .map((m) => m[3].split("\n").map((l) => l.slice(m[1].length)).join("\n"))

const pipelines = blocks("json").filter((b) => b.includes(`"pipeline"`))
const shell = blocks("sh")

const available = rsyslogAvailable()

describe("docs/syslog.md examples", () => {
  it("has the two pipelines (valid JSON) and the five shell blocks", () => {
    expect(pipelines).toHaveLength(2)
    for (const p of pipelines) expect(() => JSON.parse(p)).not.toThrow()
    expect(shell).toHaveLength(5)
  })

  describe.skipIf(!available)("against rsyslogd", () => {
    const pidFiles: string[] = []
    afterAll(() => {
      // The examples stop their rsyslogd themselves; this is for a failed run.
      for (const f of pidFiles) {
        try {
          process.kill(Number(fs.readFileSync(f, "utf8").trim()), "SIGTERM")
        } catch {
          // gone already
        }
      }
    })

    const setup = async () => {
      const dir = tempDir("sfp-syslog-docs-")
      const root = path.join(dir, "sfsyslog")
      fs.symlinkSync(path.join(projectRoot, "resources"), path.join(dir, "resources"))
      const bin = tempDir("sfp-syslog-bin-")
      fs.writeFileSync(path.join(bin, "sfprocessor"), `#!/bin/sh\nexec "${process.execPath}" "${binPath}" "$@"\n`, { mode: 0o755 })
      const [tcpPort, tlsPort] = [await freePort(), await freePort()]
      const swap = (text: string) => text.replaceAll("/tmp/sfsyslog", root).replaceAll("10514", String(tcpPort)).replaceAll("6514", String(tlsPort))
      const env = { ...process.env, PATH: `${bin}:${path.dirname(rsyslogdPath()!)}:${process.env.PATH}` }
      const sh = (script: string) =>
        new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve, reject) => {
          const child = spawn("bash", ["-c", `set -e\n${swap(script)}`], { cwd: dir, env })
          let stdout = ""
          let stderr = ""
          child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d))
          child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d))
          child.on("error", reject)
          child.on("close", (status) => resolve({ status, stdout, stderr }))
        })
      const received = async (file: string, n: number) => {
        for (let i = 0; i < 200; i++) {
          const got = fs.existsSync(file) ? fs.readFileSync(file, "utf8").split("\n").filter((l) => l !== "") : []
          if (got.length >= n) return got
          await sleep(25)
        }
        return fs.existsSync(file) ? fs.readFileSync(file, "utf8").split("\n").filter((l) => l !== "") : []
      }
      return { dir, root, swap, sh, received }
    }

    it("the quick start: rsyslogd from its own config, -test, a run whose 74 records all arrive", async () => {
      const { dir, root, swap, sh, received } = await setup()
      pidFiles.push(path.join(root, "rsyslogd.pid"))
      fs.writeFileSync(path.join(dir, "pipeline.syslog.json"), swap(pipelines[0]))
      const res = await sh(`${shell[0]}\n${shell[1]}`)
      expect(res.status, `${res.stdout}\n${res.stderr}`).toBe(0)
      expect(res.stdout).toContain("Health checks: passed")
      expect(res.stdout).toMatch(/^\d+$/m) // wc's count
      const got = await received(path.join(root, "sysflow.log"), 74)
      expect(got).toHaveLength(74)
      expect(got[0]).toMatch(/^<25>1 \S+ \S+ \S+ \d+ sysflow - \{"version":5,/)
    })

    it("TLS: the openssl commands, the TLS rsyslogd, the TLS pipeline", async () => {
      const { dir, root, swap, sh, received } = await setup()
      pidFiles.push(path.join(root, "tls", "rsyslogd.pid"))
      fs.writeFileSync(path.join(dir, "pipeline.syslog-tls.json"), swap(pipelines[1]))
      const res = await sh(`${shell[2]}\n${shell[3]}\n${shell[4]}`)
      expect(res.status, `${res.stdout}\n${res.stderr}`).toBe(0)
      const got = await received(path.join(root, "tls", "sysflow.log"), 74)
      expect(got).toHaveLength(74)
    })
  })
})
