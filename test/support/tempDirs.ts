/**
 * A setup file: after each test file, the temporary directories it made with `tempDir` are removed, so
 * a run of the suite leaves nothing behind in the system's temporary directory (the file-export and
 * file-worker tests write hundreds of MiB each).
 */
import { afterAll } from "vitest"
import { removeTempDirs } from "./cli.js"

afterAll(removeTempDirs)
