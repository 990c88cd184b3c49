import './tracing';
import { runHttpService } from '@paas/platform/bootstrap';
import { AppModule, DEPLOY_SERVICE_OPTIONS } from './app.module';

void runHttpService(AppModule, DEPLOY_SERVICE_OPTIONS);
