import './tracing';
import { runHttpService } from '@paas/platform/bootstrap';
import { AppModule, BUILD_SERVICE_OPTIONS } from './app.module';

void runHttpService(AppModule, BUILD_SERVICE_OPTIONS);
