// Opens a CSV sweep source for reading, only if its real path (symlinks resolved) lies inside
// SCHEDULE_CSV_DIR. The definition's text was checked already; this catches a symlink inside the
// directory that points out of it, and a tampered definition that skipped the text check.
import { constants, type ReadStream } from 'node:fs';
import { open, realpath } from 'node:fs/promises';
import { sep } from 'node:path';
import { csvPathProblem } from './definition.js';
import { SweepSourceError } from './errors.js';

export async function openCsvSource(path: string, csvDir: string | undefined): Promise<ReadStream> {
  const problem = csvPathProblem(path, csvDir);
  if (problem) throw new SweepSourceError(`CSV source ${path.slice(0, 256)}: ${problem}`);
  let realDir: string;
  let realFile: string;
  try {
    realDir = await realpath(csvDir as string);
    realFile = await realpath(path);
  } catch (err) {
    throw new SweepSourceError(
      `CSV source ${path}: cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
  if (!realFile.startsWith(realDir + sep)) {
    throw new SweepSourceError(`CSV source ${path}: resolves outside SCHEDULE_CSV_DIR (${csvDir})`);
  }
  // O_NOFOLLOW: the resolved path itself must not have become a symlink since it was resolved.
  const handle = await open(realFile, constants.O_RDONLY | constants.O_NOFOLLOW).catch((err) => {
    throw new SweepSourceError(
      `CSV source ${path}: cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  });
  const stat = await handle.stat();
  if (!stat.isFile()) {
    await handle.close();
    throw new SweepSourceError(`CSV source ${path}: not a regular file`);
  }
  return handle.createReadStream();
}
