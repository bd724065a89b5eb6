// Child process for the kill -9 test: starts a counting job and runs until killed.
import { createConsoleLogger } from '../../src-main/core/common/logger';
import { JobManager } from '../../src-main/core/jobs/jobManager';
import { openDatabase } from '../../src-main/core/storage/database';
import { JobRepository } from '../../src-main/core/storage/jobRepository';
import { COUNTING_KIND, countingJob } from './countingJob';

const [dbPath, to] = process.argv.slice(2);
const db = openDatabase(dbPath!);
const jobs = new JobManager(new JobRepository(db), createConsoleLogger('error'), () => undefined);
jobs.register(COUNTING_KIND, countingJob(db, 20));
const job = jobs.start(COUNTING_KIND, { to: Number(to) });
process.stdout.write(`${job.id}\n`);
