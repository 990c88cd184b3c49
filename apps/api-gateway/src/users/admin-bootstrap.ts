import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { ADMIN_PASSWORD_FILE, ADMIN_USER } from '@paas/contracts/auth';
import { loadConfig } from '@paas/platform/config';
import { ensureSecretFile } from '@paas/platform/secret-file';
import { UsersService } from './users.service';

/**
 * The admin password: `PAAS_ADMIN_PASSWORD`, else `<PAAS_HOME>/secrets/admin-password`,
 * made with a random password when missing (every replica reads the one that won).
 */
export function adminPassword(env: NodeJS.ProcessEnv = process.env, home = loadConfig(env).home): string {
  if (env.PAAS_ADMIN_PASSWORD) return env.PAAS_ADMIN_PASSWORD;
  const file = path.join(home, ADMIN_PASSWORD_FILE);
  const password = ensureSecretFile(file, () => `${randomBytes(18).toString('base64url')}\n`).trim();
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
