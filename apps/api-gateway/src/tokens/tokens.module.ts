import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { TokenMinter } from './token-minter';
import { TokensController } from './tokens.controller';
import { TokensService } from './tokens.service';

@Module({ imports: [AuthModule], controllers: [TokensController], providers: [TokenMinter, TokensService], exports: [TokensService] })
export class TokensModule {}
