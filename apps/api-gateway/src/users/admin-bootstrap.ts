import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { ADMIN_PASSWORD_FILE, ADMIN_USER } from '@paas/contracts/auth';
import { loadConfig } from '@paas/platform/config';
import { UsersService } from './users.service';

/**
 * The admin password: `PAAS_ADMIN_PASSWORD`, else `<PAAS_HOME>/secrets/admin-password`,
 * made (0600, in a 0700 directory) with a random password when missing. Replicas starting
 * together race to make it: each writes its own candidate file and links it into place, so
 * the file appears whole and exactly one candidate wins.
 */
export function adminPassword(env: NodeJS.ProcessEnv = process.env, home = loadConfig(env).home): string {
  if (env.PAAS_ADMIN_PASSWORD) return env.PAAS_ADMIN_PASSWORD;
  const file = path.join(home, ADMIN_PASSWORD_FILE);
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const candidate = `${file}.${process.pid}`;
  writeFileSync(candidate, `${randomBytes(18).toString('base64url')}\n`, { mode: 0o600 });
  try {
    linkSync(candidate, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    rmSync(candidate, { force: true });
  }
  const password = readFileSync(file, 'utf8').trim();
  if (!password) throw new Error(`${file} is empty: write a password into it, or delete it to have one made`);
  return password;
}

/** On start, user `admin` exists, is a cluster-admin and has the configured password (so editing the file resets it). */
@Injectable()
export class AdminBootstrap implements OnApplicationBootstrap {
  private readonly logger = new Logger(AdminBootstrap.name);

  constructor(private readonly users: UsersService) {}

  async onApplicationBootstrap() {
    await this.users.ensure(ADMIN_USER, adminPassword(), true);
    this.logger.log(`cluster-admin "${ADMIN_USER}" ready (password: ${process.env.PAAS_ADMIN_PASSWORD ? 'PAAS_ADMIN_PASSWORD' : ADMIN_PASSWORD_FILE + ' under PAAS_HOME'})`);
  }
}
