import { Global, Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { storedResourceSchema } from '@paas/platform/resource-repository';
import { NAMESPACES_COLLECTION, NamespaceRepository } from './namespaces/namespace.repository';
import { ROLEBINDINGS_COLLECTION, RoleBindingRepository } from './rolebindings/rolebinding.repository';
import { SERVICEACCOUNTS_COLLECTION, ServiceAccountRepository } from './serviceaccounts/serviceaccount.repository';
import { API_TOKENS_COLLECTION, ApiTokenRepository, apiTokenSchema } from './tokens/api-token.repository';
import { PASSWORDS_COLLECTION, PasswordRepository, passwordSchema, USERS_COLLECTION, UserRepository } from './users/user.repository';

const RESOURCE_COLLECTIONS = [NAMESPACES_COLLECTION, USERS_COLLECTION, SERVICEACCOUNTS_COLLECTION, ROLEBINDINGS_COLLECTION];
const REPOSITORIES = [NamespaceRepository, UserRepository, PasswordRepository, ApiTokenRepository, ServiceAccountRepository, RoleBindingRepository];

/**
 * What the gateway itself owns, in its database: namespaces and who may do what in them.
 * Authentication reads users, tokens and service accounts, authorization role bindings and
 * namespaces, and a namespace binds its creator and takes its bindings along when it goes;
 * so the repositories are shared.
 */
@Global()
@Module({
  imports: [
    MongooseModule.forFeature([
      ...RESOURCE_COLLECTIONS.map((name) => ({ name, schema: storedResourceSchema(name) })),
      { name: PASSWORDS_COLLECTION, schema: passwordSchema },
      { name: API_TOKENS_COLLECTION, schema: apiTokenSchema },
    ]),
  ],
  providers: REPOSITORIES,
  exports: REPOSITORIES,
})
export class StoreModule {}
