// Store URLs: which are PostgreSQL's, which text is a URL, and the one
// redaction of passwords every printed message goes through, for each way
// libpq takes a password.
#include "core/url.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/errors.h"

namespace lrtune {
namespace {
using ::testing::HasSubstr;
using ::testing::Not;

TEST(StoreUrl, PostgresSchemesInAnyCaseAndNothingElse) {
  for (const char* yes : {"postgresql://h/db", "postgres://u@h", "POSTGRESQL://h/db", "PostgreS://h"})
    EXPECT_TRUE(is_postgres_url(yes)) << yes;
  for (const char* no : {"postgresq://h/db", "mysql://x/y", "postgresql:/h", "results", "",
                         "host=h dbname=d", "./postgresql://x"})
    EXPECT_FALSE(is_postgres_url(no)) << no;
  EXPECT_EQ(libpq_url("POSTGRESQL://U:P@H/DB"), "postgresql://U:P@H/DB");
  EXPECT_EQ(libpq_url("studies-out/x"), "studies-out/x");
}

TEST(StoreUrl, AnySchemeFollowedBySlashesIsAUrl) {
  for (const char* yes : {"mysql://x/y", "postgresq://u:pw@h/db", "sqlite:///x.db", "a+b-c.d://"})
    EXPECT_TRUE(looks_like_url(yes)) << yes;
  for (const char* no : {"runs/x", "C:/x", "1abc://x", "://x", "x:/y", "dir with://inside"})
    EXPECT_FALSE(looks_like_url(no)) << no;
}

TEST(StoreUrl, AForeignUrlIsRefusedWithoutItsPassword) {
  EXPECT_NO_THROW(refuse_foreign_url("studies-out/x", "TO"));
  EXPECT_NO_THROW(refuse_foreign_url("Postgres://h/db", "TO"));
  try {
    refuse_foreign_url("postgresq://u:SECRET@h/db", "store copy TO");
    FAIL() << "accepted";
  } catch (const StoreError& e) {
    EXPECT_THAT(e.what(), HasSubstr("store copy TO: 'postgresq://u@h/db' is a postgresq:// URL"));
    EXPECT_THAT(e.what(), Not(HasSubstr("SECRET")));
  }
}

TEST(RedactPasswords, UserInformationLosesItsPasswordOnly) {
  EXPECT_EQ(redact_passwords("postgresql://alice:pw@h:5432/db"), "postgresql://alice@h:5432/db");
  EXPECT_EQ(redact_passwords("postgres://alice:p:w%40x@h1,h2/db"), "postgres://alice@h1,h2/db");
  EXPECT_EQ(redact_passwords("postgresql://alice@h/db"), "postgresql://alice@h/db");
  EXPECT_EQ(redact_passwords("postgresql://[::1]:5432/db"), "postgresql://[::1]:5432/db");
  EXPECT_EQ(redact_passwords("got 'postgresql://u:s3@h/d' and mysql://v:s4@x/y here"),
            "got 'postgresql://u@h/d' and mysql://v@x/y here");
}

TEST(RedactPasswords, QueryParametersAndTheirSeparators) {
  EXPECT_EQ(redact_passwords("postgresql://h/db?password=pw"), "postgresql://h/db");
  EXPECT_EQ(redact_passwords("postgresql://h/db?password=pw&sslmode=require"),
            "postgresql://h/db?sslmode=require");
  EXPECT_EQ(redact_passwords("postgresql://h/db?sslmode=require&password=pw"),
            "postgresql://h/db?sslmode=require");
  EXPECT_EQ(redact_passwords("postgresql://h/db?a=1&password=pw&b=2 and more"),
            "postgresql://h/db?a=1&b=2 and more");
  // libpq decodes the keyword too; sslpassword is a secret as well.
  EXPECT_EQ(redact_passwords("postgresql://h/db?pass%77ord=pw&sslpassword=k"), "postgresql://h/db");
  EXPECT_EQ(redact_passwords("postgresql://h/db?a=1&PASSWORD=pw"), "postgresql://h/db?a=1");
}

TEST(RedactPasswords, KeyValueConnectionStringsQuotedOrNot) {
  EXPECT_EQ(redact_passwords("host=h password=pw dbname=d"), "host=h dbname=d");
  EXPECT_EQ(redact_passwords("host=h password = 'a b\\' c' dbname=d"), "host=h dbname=d");
  EXPECT_EQ(redact_passwords("host=h password=a\\ b&c"), "host=h ");
  EXPECT_EQ(redact_passwords("password=pw"), "");
  EXPECT_EQ(redact_passwords("got 'host=h password=pw'"), "got 'host=h ");  // to the space
  // Words that are not libpq's keyword stay.
  EXPECT_EQ(redact_passwords("mypassword=x password authentication failed"),
            "mypassword=x password authentication failed");
}

TEST(RedactPasswords, IsIdempotentAndLeavesOtherTextAlone) {
  for (const char* text : {"lrtune: error: runs/x: no results.sqlite here", "a=b&c", "",
                           "postgresql://u:p@h/db?password=q&x=1 host=h password='z'"}) {
    const std::string once = redact_passwords(text);
    EXPECT_EQ(redact_passwords(once), once) << text;
  }
  EXPECT_EQ(redact_passwords("lrtune: error: runs/x: no results.sqlite here"),
            "lrtune: error: runs/x: no results.sqlite here");
}

}  // namespace
}  // namespace lrtune
