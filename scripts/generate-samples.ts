/**
 * Regenerates the committed sample traces (resources/traces by default):
 *   npx vite-node scripts/generate-samples.ts [dir]
 * test/trace/samples.test.ts checks that the committed files match what this writes.
 */
import { writeSamples } from "../src/services/trace/SampleTraces.js"

for (const file of writeSamples(process.argv[2] ?? "resources/traces")) console.log(`wrote ${file}`)
