import { describe, expect, it } from "vitest"
import { flagDefaults, usageOutput } from "../../src/cli/Usage.js"

describe("usage text", () => {
  it("prints the synopsis to stdout as the reference's Go raw string does", () => {
    const [head, , tail] = usageOutput()
    expect(head).toEqual({
      stream: "stdout",
      text:
        "Usage: sfprocessor [-version\n" +
        "\t\t   |-test [-log <value>] [-config <value>] [-driverdir <value>] [-plugdir <value>]]\n" +
        "\t\t   |[-driver <value>] [-log <value>] [-perflog] [-config <value>] [-driverdir <value>] [-plugdir <value>]" +
        " [-cpuprofile <value>] [-memprofile <value>] [-traceprofile <value>] path]\n" +
        "\n" +
        "Positional arguments:\n" +
        "  path string\n" +
        "\tInput path\n" +
        "\n" +
        "Arguments:\n"
    })
    expect(tail).toEqual({ stream: "stdout", text: "\n" })
  })

  it("prints Go's PrintDefaults list, sorted, to stderr", () => {
    expect(usageOutput()[1]).toEqual({ stream: "stderr", text: flagDefaults() })
    expect(flagDefaults()).toBe(
      [
        "  -config string",
        '    \tPath to pipeline configuration file (default "pipeline.json")',
        "  -cpuprofile file",
        "    \tWrite cpu profile to file",
        "  -driver string",
        "    \tDriver name {file|socket|otelfile|otelkafka|<custom>}",
        "  -driverdir string",
        '    \tDynamic driver directory (default "../resources/drivers")',
        "  -list",
        "    \tList the policy engines' rules with their state, source, priority and tags",
        "  -log string",
        '    \tLog level {trace|info|warn|error|health|quiet} (default "info")',
        "  -memprofile file",
        "    \tWrite memory profile to file",
        "  -perflog",
        "    \tEnable performance logging",
        "  -plugdir string",
        '    \tDynamic plugins directory (default "../resources/plugins")',
        "  -test",
        "    \tTest pipeline configuration",
        "  -traceprofile file",
        "    \tWrite trace profile to file",
        "  -version",
        "    \tOutput version information",
        ""
      ].join("\n")
    )
  })
})
