import './tracing';
import { runHttpService } from '@paas/platform/bootstrap';
import { AppModule, GATEWAY_OPTIONS } from './app.module';

void runHttpService(AppModule, GATEWAY_OPTIONS);
