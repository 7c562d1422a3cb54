// SPDX-License-Identifier: ISC
#pragma once
// php-fpm's security.limit_extensions: a pool runs only scripts whose SCRIPT_FILENAME ends in one
// of its extensions, so that a web server sending /upload/cat.jpg/x.php as /upload/cat.jpg cannot
// make PHP run an uploaded file (fpm_php_limit_extensions).

#include <string>
#include <string_view>
#include <vector>

namespace fcgimux {

/// True when `extensions` is empty, when the PARAMS block has no SCRIPT_FILENAME (php-fpm lets
/// those through too), or when SCRIPT_FILENAME ends in one of them. One pass over the block.
bool script_allowed(std::string_view params, const std::vector<std::string>& extensions) noexcept;

}  // namespace fcgimux
