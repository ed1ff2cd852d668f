cmd_Release/rawnet.node := ln -f "Release/obj.target/rawnet.node" "Release/rawnet.node" 2>/dev/null || (rm -rf "Release/rawnet.node" && cp -af "Release/obj.target/rawnet.node" "Release/rawnet.node")
