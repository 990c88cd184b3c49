import { Global, Module } from '@nestjs/common';
import { GATEWAY_SETTINGS, loadGatewaySettings } from './gateway-settings';

/** The gateway's settings, read from the environment once, for every module. */
@Global()
@Module({ providers: [{ provide: GATEWAY_SETTINGS, useFactory: () => loadGatewaySettings() }], exports: [GATEWAY_SETTINGS] })
export class SettingsModule {}
