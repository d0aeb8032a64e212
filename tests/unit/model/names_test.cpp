#include "model/names.hpp"

#include <gtest/gtest.h>

namespace ct::model {

TEST(Names, UrisNeedASchemeAndNoSpaces) {
  EXPECT_TRUE(is_uri("urn:ngsi-ld:AirQualityObserved:dongsi"));
  EXPECT_TRUE(is_uri("https://example.org/a?b=c"));
  for (const char* bad : {"", "dongsi", ":nothing", "urn:", "urn:a b", "1urn:x", "urn:a<b>", "ur n:x"})
    EXPECT_FALSE(is_uri(bad)) << bad;
}

TEST(Names, TermsRejectForbiddenCharacters) {
  EXPECT_TRUE(is_valid_term("pm25"));
  EXPECT_TRUE(is_valid_term("https://smartdatamodels.org/dataModel.Environment/pm25"));
  for (const char* bad : {"", "pm 25", "a<b", "a\"b", "a'b", "a=b", "a;b", "a(b)", "a\nb"})
    EXPECT_FALSE(is_valid_term(bad)) << bad;
  EXPECT_FALSE(is_valid_term(std::string(257, 'a')));
}

}  // namespace ct::model
