import { Global, Inject, Injectable, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { RouterState } from './table/router-state';
import { RouterRuntime } from './runtime';

export const ROUTER_CONFIG = Symbol('ROUTER_CONFIG');

/** One start of the NestJS side; only one that started owns the runtime's shutdown. */
export class ControlPlaneAttempt {
  started = false;
}

@Injectable()
class RuntimeLifecycle implements OnApplicationShutdown {
  constructor(
    @Inject(RouterRuntime) private readonly runtime: RouterRuntime,
    @Inject(ControlPlaneAttempt) private readonly attempt: ControlPlaneAttempt,
  ) {}

  async onApplicationShutdown() {
    // A failed start is cleaned up while the data plane keeps serving for the next attempt.
    if (this.attempt.started) await this.runtime.close();
  }
}

/**
 * Hands the already-running runtime (state, config) to the NestJS side, and closes it when
 * an app that started shuts down.
 */
@Global()
@Module({})
export class RuntimeModule {
  static forRoot(runtime: RouterRuntime, attempt: ControlPlaneAttempt): DynamicModule {
    return {
      module: RuntimeModule,
      providers: [
        { provide: RouterRuntime, useValue: runtime },
        { provide: ControlPlaneAttempt, useValue: attempt },
        { provide: RouterState, useValue: runtime.state },
        { provide: ROUTER_CONFIG, useValue: runtime.config },
        RuntimeLifecycle,
      ],
      exports: [RouterState, ROUTER_CONFIG],
    };
  }
}
